/**
 * Bulk throughput: one flow moving `size` bytes down (target → client) or up, timed from the
 * request to the last byte (download) or to the target's acknowledgement (upload), with the
 * CPU each role spent meanwhile.
 */
import type { Contender } from '../contenders/types.ts';
import { cpuDelta, cpuSnapshot, type RoleCpu } from './cpu.ts';
import { download, startTls, upload, withTimeout, type TargetInfo } from './tls-flow.ts';

export interface BulkResult {
  readonly megabytesPerSecond: number;
  readonly seconds: number;
  /** CPU seconds per GiB relayed, per role. */
  readonly cpuPerGiB: RoleCpu;
}

const GiB = 1024 ** 3;

export async function bulk(
  contender: Contender,
  target: TargetInfo,
  direction: 'download' | 'upload',
  size: number,
): Promise<BulkResult> {
  const stream = await withTimeout(
    contender.openStream(target.tlsPort),
    15_000,
    'opening the flow',
  );
  const socket = await withTimeout(startTls(stream, target), 15_000, 'target TLS handshake', () =>
    stream.destroy(),
  );
  const roles = contender.roles();
  const before = cpuSnapshot(roles);
  // A stall must not hang the run: allow 20 MB/s at worst, plus 30 s.
  const limitMs = 30_000 + (size / 20e6) * 1000;
  const run = direction === 'download' ? download(socket, size) : upload(socket, size);
  const { doneMs } = await withTimeout(run, limitMs, `${direction} of ${size} bytes`, () =>
    socket.destroy(),
  );
  const cpu = cpuDelta(before, cpuSnapshot(roles));
  const perGiB = GiB / size;
  return {
    megabytesPerSecond: size / 1e6 / (doneMs / 1000),
    seconds: doneMs / 1000,
    cpuPerGiB: {
      client: cpu.client * perGiB,
      ingress: cpu.ingress * perGiB,
      egress: cpu.egress * perGiB,
    },
  };
}
