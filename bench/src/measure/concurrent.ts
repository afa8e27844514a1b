/**
 * Many flows at once: `count` flows started together, each downloading `size` bytes. The
 * aggregate is all bytes over the time from the start to the last flow's last byte; first
 * bytes are timed from the common start, so they include waiting for the others.
 */
import type { Contender } from '../contenders/types.ts';
import { percentile } from '../report/stats.ts';
import { download, nowMs, startTls, withTimeout, type TargetInfo } from './tls-flow.ts';

export interface ConcurrentResult {
  readonly megabytesPerSecond: number;
  readonly firstByteP50: number;
  readonly firstByteP99: number;
  readonly failures: number;
}

export async function concurrentFlows(
  contender: Contender,
  target: TargetInfo,
  count: number,
  size: number,
): Promise<ConcurrentResult> {
  const t0 = nowMs();
  const limitMs = 30_000 + ((count * size) / 10e6) * 1000;
  const one = async (): Promise<number> => {
    const stream = await contender.openStream(target.tlsPort);
    const socket = await withTimeout(startTls(stream, target), 30_000, 'target TLS handshake', () =>
      stream.destroy(),
    );
    const started = nowMs() - t0;
    const result = await withTimeout(download(socket, size), limitMs, 'concurrent flow', () =>
      socket.destroy(),
    );
    return started + result.firstByteMs;
  };
  const outcomes = await Promise.allSettled(Array.from({ length: count }, one));
  const elapsed = (nowMs() - t0) / 1000;
  const firstBytes = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  return {
    megabytesPerSecond: (firstBytes.length * size) / 1e6 / elapsed,
    firstByteP50: percentile(firstBytes, 50),
    firstByteP99: percentile(firstBytes, 99),
    failures: count - firstBytes.length,
  };
}
