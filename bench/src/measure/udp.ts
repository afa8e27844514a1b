/**
 * UDP figures against the target's echo port, on one path per contender and round:
 *   latency: N sequential ping-pongs of small datagrams (one in flight), p50/p99 of the echo;
 *   throughput: a window of W datagrams in flight for a fixed time, each echo sending the next;
 *     datagrams echoed per second, and loss (sent but never echoed).
 * Every datagram carries a 32-bit sequence number; echoes that match nothing are ignored. A
 * datagram not echoed within its timeout counts as lost and frees its slot, so a loss never
 * stalls the window, and both measures end by a deadline whatever the path does.
 */
import type { Contender } from '../contenders/types.ts';
import { percentile } from '../report/stats.ts';
import { nowMs, type TargetInfo } from './tls-flow.ts';
import type { UdpPath } from './udp-paths.ts';

export interface UdpSizes {
  readonly pings: number;
  readonly pingBytes: number;
  readonly seconds: number;
  readonly window: number;
  readonly datagramBytes: number;
}

export interface UdpResult {
  readonly p50: number;
  readonly p99: number;
  readonly pingsLost: number;
  readonly datagramsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly lossPercent: number;
  readonly sent: number;
}

/** Echo latency is measured with small datagrams, throughput with QUIC-sized ones. */
export const UDP_PING_BYTES = 64;
export const UDP_DATAGRAM_BYTES = 1200;

const PING_TIMEOUT_MS = 1_000;
const EXPIRE_MS = 500;
// Throughput sequence numbers start here, so a late echo of a ping never counts as one.
const THROUGHPUT_SEQ = 1 << 30;

/** Dispatches the path's echoes to whichever measure is running. */
function dispatcher(path: UdpPath): (listener: (seq: number) => void) => void {
  let current: (seq: number) => void = () => {};
  path.onDatagram((payload) => {
    if (payload.length >= 4) current(payload.readUInt32BE(0));
  });
  return (listener) => {
    current = listener;
  };
}

const datagram = (seq: number, size: number): Buffer => {
  const b = Buffer.alloc(Math.max(4, size));
  b.writeUInt32BE(seq, 0);
  return b;
};

/** Sends until the first echo: the relays open the flow on the first datagram. */
async function warm(path: UdpPath, listen: (l: (seq: number) => void) => void): Promise<void> {
  const until = nowMs() + 15_000;
  let echoed = false;
  listen(() => {
    echoed = true;
  });
  for (let seq = 0; !echoed && nowMs() < until; seq++) {
    path.send(datagram(seq, 64));
    for (let i = 0; i < 20 && !echoed; i++) await new Promise((r) => setTimeout(r, 10));
  }
  if (!echoed) throw new Error('no UDP echo within 15 s');
}

async function pingPong(
  path: UdpPath,
  listen: (l: (seq: number) => void) => void,
  sizes: UdpSizes,
  deadline: number,
): Promise<{ samples: number[]; lost: number }> {
  const samples: number[] = [];
  let lost = 0;
  for (let seq = 1; seq <= sizes.pings && nowMs() < deadline; seq++) {
    const payload = datagram(seq, sizes.pingBytes);
    const t = nowMs();
    const echoed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      listen((s) => {
        if (s !== seq) return;
        clearTimeout(timer);
        resolve(true);
      });
      path.send(payload);
    });
    if (echoed) samples.push(nowMs() - t);
    else lost++;
  }
  listen(() => {});
  return { samples, lost };
}

async function windowed(
  path: UdpPath,
  listen: (l: (seq: number) => void) => void,
  sizes: UdpSizes,
): Promise<{ sent: number; inTime: number; echoed: number; seconds: number }> {
  const out = new Map<number, number>();
  let next = THROUGHPUT_SEQ;
  let sent = 0;
  let echoed = 0;
  let inTime = 0;
  const start = nowMs();
  const end = start + sizes.seconds * 1000;
  let stopping = false;
  const fill = (): void => {
    while (!stopping && out.size < sizes.window) {
      out.set(next, nowMs());
      path.send(datagram(next++, sizes.datagramBytes));
      sent++;
    }
  };
  // Expired datagrams left `out`; one echoed late still counts as delivered, not as lost.
  const expired = new Set<number>();
  listen((seq) => {
    const t = nowMs();
    if (out.delete(seq)) {
      echoed++;
      if (t <= end) inTime++;
    } else if (expired.delete(seq)) {
      echoed++;
    }
    if (t >= end) stopping = true;
    fill();
  });
  fill();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = nowMs();
      if (t >= end) stopping = true;
      for (const [seq, at] of out) {
        if (t - at > EXPIRE_MS) {
          out.delete(seq);
          expired.add(seq);
        }
      }
      if (stopping && (out.size === 0 || t > end + EXPIRE_MS)) {
        clearInterval(timer);
        resolve();
      } else fill();
    }, 10);
  });
  listen(() => {});
  return { sent, inTime, echoed, seconds: sizes.seconds };
}

export async function udpEcho(
  c: Contender,
  target: TargetInfo,
  sizes: UdpSizes,
): Promise<UdpResult | undefined> {
  if (!c.openUdp) return undefined;
  const path = await c.openUdp(target.udpPort);
  try {
    const listen = dispatcher(path);
    await warm(path, listen);
    // A bound on the ping phase: N pings at a generous 10 ms each, at least 10 s.
    const deadline = nowMs() + Math.max(10_000, sizes.pings * 10);
    const { samples, lost } = await pingPong(path, listen, sizes, deadline);
    if (samples.length === 0) throw new Error('every UDP ping was lost');
    const w = await windowed(path, listen, sizes);
    return {
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      pingsLost: lost,
      datagramsPerSecond: w.inTime / w.seconds,
      megabytesPerSecond: (w.inTime * sizes.datagramBytes) / w.seconds / 1e6,
      lossPercent: w.sent > 0 ? ((w.sent - w.echoed) / w.sent) * 100 : 0,
      sent: w.sent,
    };
  } finally {
    await path.close();
  }
}
