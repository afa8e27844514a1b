/**
 * Reads a request body whole, bounded in size and in time: the Oblivious HTTP relay and
 * gateway take bodies from parties they do not trust. A declared Content-Length over the
 * bound is refused before a byte is read; a body that grows past it, or never ends, is
 * refused as soon as that is known. The stream is then left paused, not destroyed: the
 * caller still answers on it (413, 408) and then closes it, so the peer stops sending.
 */
import type { Readable } from 'node:stream';
import { RelayError } from '@splitrelay/errors';
import { relayDeadline, withDeadline } from './deadline.ts';

export interface ReadBodyOptions {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** The Content-Length the peer declared, if any (checked first). */
  readonly declaredLength?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export function readBody(stream: Readable, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes, declaredLength } = options;
  if (declaredLength !== undefined && declaredLength > maxBytes) {
    return Promise.reject(new RelayError('content-too-large', `body over ${maxBytes} bytes`));
  }
  return withDeadline(
    (deadline) =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer): void => {
          size += chunk.length;
          if (size > maxBytes) {
            cleanup();
            reject(new RelayError('content-too-large', `body over ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        };
        const onEnd = (): void => {
          cleanup();
          resolve(Buffer.concat(chunks, size));
        };
        const onClose = (): void => {
          cleanup();
          reject(new RelayError('connection-terminated', 'body ended early'));
        };
        const onDeadline = (): void => cleanup();
        const cleanup = (): void => {
          stream.pause();
          stream.off('data', onData);
          stream.off('end', onEnd);
          stream.off('close', onClose);
          stream.off('error', onClose);
          deadline.removeEventListener('abort', onDeadline);
        };
        deadline.addEventListener('abort', onDeadline, { once: true });
        stream.on('data', onData);
        stream.once('end', onEnd);
        stream.once('close', onClose);
        stream.once('error', onClose);
      }),
    relayDeadline(
      options.timeoutMs,
      options.signal,
      'request-timeout',
      'body not received in time',
    ),
  );
}

/** A Content-Length header's value as a number, or undefined when absent or not one. */
export function declaredLength(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
