/**
 * A whole capture in one call: packets, TCP connections (reassembled), UDP flows and the
 * TLS facts of every connection that starts with a handshake.
 */
import { parseCapture, type CaptureInfo } from './capture-file.ts';
import { dissectPacket, type DissectedPacket } from './layers.ts';
import { reassembleTcp, type ReassemblyOptions, type TcpConnection } from './tcp-streams.ts';
import { udpFlows, type UdpFlow } from './udp-flows.ts';
import { tlsConnectionFacts, type TlsConnectionFacts } from '../tls/tls-facts.ts';

export interface CaptureDissection {
  readonly info: CaptureInfo;
  readonly packets: readonly DissectedPacket[];
  readonly tcp: readonly TcpConnection[];
  readonly udp: readonly UdpFlow[];
  readonly tls: readonly TlsConnectionFacts[];
}

export interface DissectOptions extends ReassemblyOptions {
  readonly maxPacketBytes?: number;
}

export function dissectCapture(bytes: Uint8Array, options: DissectOptions = {}): CaptureDissection {
  const { info, packets } = parseCapture(bytes, { maxPacketBytes: options.maxPacketBytes });
  const dissected = packets.map(dissectPacket);
  const tcp = reassembleTcp(dissected, options);
  return {
    info,
    packets: dissected,
    tcp,
    udp: udpFlows(dissected),
    tls: tcp.flatMap((c) => {
      const facts = tlsConnectionFacts(c);
      return facts ? [facts] : [];
    }),
  };
}
