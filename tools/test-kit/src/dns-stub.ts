/**
 * A loopback DNS responder for refusal tests: answers every query with a fixed rcode
 * (NXDOMAIN by default), or never answers ('silent'), so DNS errors and timeouts are
 * tested without a query leaving the machine.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';

export interface DnsStub {
  readonly address: string;
  readonly queries: number;
  close(): Promise<void>;
}

export async function dnsStub(
  host: string,
  mode: { rcode: number } | 'silent' = { rcode: 3 },
): Promise<DnsStub> {
  const socket = dgram.createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, rinfo) => {
    queries++;
    if (mode === 'silent' || msg.length < 12) return;
    const reply = Buffer.from(msg);
    // RFC 1035 §4.1.1: QR=1, keep opcode and RD, RA=1, the chosen RCODE, no answers.
    reply[2] = 0x80 | (msg[2]! & 0x79);
    reply[3] = 0x80 | (mode.rcode & 0x0f);
    reply.writeUInt16BE(0, 6);
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.bind(0, host);
  await once(socket, 'listening');
  return {
    address: `${host}:${socket.address().port}`,
    get queries() {
      return queries;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
