/**
 * Egress side of a UDP flow: DATAGRAM capsules from the client become datagrams on a
 * connected UDP socket, and replies go back as capsules. One client datagram is at most one
 * datagram of the same size to the target, so the egress never amplifies towards a target.
 */
import type dgram from 'node:dgram';
import type { DatagramStream } from './datagram-stream.ts';

export interface UdpBridgeStats {
  toTarget: number;
  fromTarget: number;
  dropped: number;
}

export function bridgeUdp(
  flow: DatagramStream,
  socket: dgram.Socket,
  options: { idleTimeoutMs: number; onDone?: (stats: UdpBridgeStats) => void },
): void {
  const stats: UdpBridgeStats = { toTarget: 0, fromTarget: 0, dropped: 0 };
  let done = false;
  const timer = setTimeout(() => finish(), options.idleTimeoutMs);
  timer.unref();

  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    try {
      socket.close();
    } catch {
      // Already closed by an error.
    }
    flow.destroy();
    stats.dropped += flow.stats.dropped;
    options.onDone?.(stats);
  };

  flow.on('datagram', (payload) => {
    timer.refresh();
    socket.send(payload, (err) => {
      if (err) stats.dropped++;
      else stats.toTarget++;
    });
  });
  socket.on('message', (msg) => {
    timer.refresh();
    stats.fromTarget++;
    flow.send(msg);
  });
  // ICMP errors (port unreachable, message too big) arrive here: they cost one datagram,
  // not the flow.
  socket.on('error', () => stats.dropped++);
  flow.once('close', finish);
  flow.on('error', () => finish());
}
