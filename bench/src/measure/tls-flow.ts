/**
 * One flow to the target as every contender carries it: a raw stream from the contender,
 * then TLS 1.3 AES-128-GCM to the target (certificate checked against the deployment CA),
 * then one request (target/protocol.ts). Times are milliseconds from `t0`.
 */
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { TARGET_NAME } from '../kit/addresses.ts';
import { BENCH_TLS } from '../kit/tls.ts';
import { encodeTargetRequest, UPLOAD_ACK } from '../target/protocol.ts';

export interface TargetInfo {
  readonly tlsPort: number;
  readonly holdPort: number;
  /** The target's UDP echo port. */
  readonly udpPort: number;
  readonly ca: string;
}

export const nowMs = (): number => performance.now();

export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function startTls(stream: Duplex, target: TargetInfo): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...BENCH_TLS,
      socket: stream,
      servername: TARGET_NAME,
      ca: target.ca,
    });
    socket.setNoDelay?.(true);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      stream.destroy();
      reject(err);
    });
  });
}

export interface DownloadResult {
  readonly bytes: number;
  /** First byte of the body, from the request. */
  readonly firstByteMs: number;
  /** Last byte, from the request. */
  readonly doneMs: number;
}

/** Sends a download request on an open TLS flow and reads until the target closes. */
export function download(socket: tls.TLSSocket, size: number): Promise<DownloadResult> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    let bytes = 0;
    let firstByteMs = -1;
    socket.on('data', (chunk: Buffer) => {
      if (firstByteMs < 0) firstByteMs = nowMs() - t0;
      bytes += chunk.length;
    });
    socket.once('end', () => {
      const doneMs = nowMs() - t0;
      socket.destroy();
      if (bytes !== size) reject(new Error(`download got ${bytes} of ${size} bytes`));
      else resolve({ bytes, firstByteMs, doneMs });
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`flow closed after ${bytes} of ${size} bytes`)));
    socket.write(encodeTargetRequest('D', size));
  });
}

const UPLOAD_CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

/** Sends `size` bytes and waits for the target's acknowledgement of the last one. */
export function upload(
  socket: tls.TLSSocket,
  size: number,
): Promise<{ bytes: number; doneMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    socket.once('data', (chunk: Buffer) => {
      const doneMs = nowMs() - t0;
      socket.destroy();
      if (chunk[0] !== UPLOAD_ACK) reject(new Error('upload: unexpected answer'));
      else resolve({ bytes: size, doneMs });
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('flow closed before the upload was acknowledged')));
    socket.write(encodeTargetRequest('U', size));
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, UPLOAD_CHUNK.length);
        left -= n;
        if (!socket.write(n === UPLOAD_CHUNK.length ? UPLOAD_CHUNK : UPLOAD_CHUNK.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

export interface FlowTiming {
  /** Stream to the target open (SOCKS reply, or TCP connect for direct). */
  readonly setupMs: number;
  /** Target TLS established. */
  readonly tlsMs: number;
  /** First response byte. */
  readonly firstByteMs: number;
}

/** A whole new flow, from nothing to the first byte of a 1-byte download. */
export async function timedFlow(
  open: (port: number) => Promise<Duplex>,
  target: TargetInfo,
  t0 = nowMs(),
): Promise<FlowTiming> {
  const stream = await open(target.tlsPort);
  const setupMs = nowMs() - t0;
  const socket = await startTls(stream, target);
  const tlsMs = nowMs() - t0;
  const result = await download(socket, 1);
  return { setupMs, tlsMs, firstByteMs: tlsMs + result.firstByteMs };
}
