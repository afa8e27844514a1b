/**
 * Joins two byte streams both ways: every hop of the relay ends in this. Backpressure comes
 * from `pipe` (a full writer pauses its reader), half-close is kept (one side's end becomes
 * the other's end, the other direction keeps flowing), and an abort on either side destroys
 * the other so no half-dead pair lingers.
 */
import type { Duplex } from 'node:stream';

export interface SpliceStats {
  /** Bytes that went from `a` to `b`. */
  aToB: number;
  bToA: number;
  /** True when either side was aborted (error, reset or idle timeout) instead of ending cleanly. */
  aborted: boolean;
}

export interface SpliceOptions {
  /** Destroys both sides when no byte moves either way for this long. */
  idleTimeoutMs?: number;
  onIdle?: () => void;
  onDone?: (stats: SpliceStats) => void;
}

function finishedCleanly(s: Duplex): boolean {
  return s.readableEnded && s.writableFinished;
}

export function splice(a: Duplex, b: Duplex, options: SpliceOptions = {}): void {
  const stats: SpliceStats = { aToB: 0, bToA: 0, aborted: false };
  let closed = 0;
  let timer: NodeJS.Timeout | undefined;

  if (options.idleTimeoutMs !== undefined) {
    timer = setTimeout(() => {
      options.onIdle?.();
      abort(new Error('idle timeout'));
    }, options.idleTimeoutMs);
    timer.unref();
  }

  const abort = (err?: Error): void => {
    stats.aborted = true;
    if (!a.destroyed) a.destroy(err);
    if (!b.destroyed) b.destroy(err);
  };

  const onClose = (self: Duplex, other: Duplex) => () => {
    if (!finishedCleanly(self)) {
      stats.aborted = true;
      if (!other.destroyed) other.destroy();
    }
    if (++closed === 2) {
      if (timer) clearTimeout(timer);
      options.onDone?.(stats);
    }
  };

  a.on('data', (chunk: Buffer) => {
    stats.aToB += chunk.length;
    timer?.refresh();
  });
  b.on('data', (chunk: Buffer) => {
    stats.bToA += chunk.length;
    timer?.refresh();
  });
  // Errors are reported through 'close'; listening here keeps one from crashing the process.
  a.on('error', () => abort());
  b.on('error', () => abort());
  a.on('close', onClose(a, b));
  b.on('close', onClose(b, a));
  a.pipe(b);
  b.pipe(a);
}
