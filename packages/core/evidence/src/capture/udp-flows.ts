/**
 * UDP datagrams grouped by 4-tuple, in capture order. The first sender of a flow is its
 * `initiator`. Each datagram keeps its packet number and the file offset of its payload.
 */
import type { Endpoint } from './tcp-streams.ts';
import type { DissectedPacket } from './layers.ts';

export interface UdpDatagram {
  readonly packet: number;
  readonly fromInitiator: boolean;
  readonly fileOffset: number;
  readonly payload: Uint8Array;
}

export interface UdpFlow {
  readonly id: number;
  readonly initiator: Endpoint;
  readonly responder: Endpoint;
  readonly datagrams: readonly UdpDatagram[];
}

export function udpFlows(packets: readonly DissectedPacket[]): UdpFlow[] {
  const flows = new Map<
    string,
    { id: number; initiator: Endpoint; responder: Endpoint; datagrams: UdpDatagram[] }
  >();
  for (const p of packets) {
    if (!p.ip || !p.udp) continue;
    const src = `${p.ip.src}|${p.udp.srcPort}`;
    const dst = `${p.ip.dst}|${p.udp.dstPort}`;
    const k = src < dst ? `${src}>${dst}` : `${dst}>${src}`;
    let flow = flows.get(k);
    if (!flow) {
      flow = {
        id: flows.size + 1,
        initiator: { address: p.ip.src, port: p.udp.srcPort },
        responder: { address: p.ip.dst, port: p.udp.dstPort },
        datagrams: [],
      };
      flows.set(k, flow);
    }
    flow.datagrams.push({
      packet: p.number,
      fromInitiator: flow.initiator.address === p.ip.src && flow.initiator.port === p.udp.srcPort,
      fileOffset: p.fileOffset + p.udp.payloadOffset,
      payload: p.udp.payload,
    });
  }
  return [...flows.values()];
}
