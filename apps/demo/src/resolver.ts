/**
 * The demo egress's own DNS resolver, for its DoH over Oblivious HTTP: a few fixed A records
 * (the demo's names), NXDOMAIN for anything else, so no query leaves the machine.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';

/** The question's name (RFC 1035 §4.1.2), lower-cased, or undefined if it cannot be read. */
function questionName(msg: Buffer): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const length = msg[at]!;
    if ((length & 0xc0) !== 0 || at + 1 + length > msg.length) return undefined;
    labels.push(
      msg
        .subarray(at + 1, at + 1 + length)
        .toString('latin1')
        .toLowerCase(),
    );
    at += 1 + length;
  }
  return at + 5 <= msg.length ? { name: labels.join('.'), end: at + 5 } : undefined;
}

export async function startDemoResolver(
  host: string,
  port: number,
  records: Readonly<Record<string, string>>,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return;
    const question = questionName(msg);
    const address = question ? records[question.name] : undefined;
    const isA = question !== undefined && msg.readUInt16BE(question.end - 4) === 1;
    const header = Buffer.from(msg.subarray(0, 12));
    header[2] = 0x80 | (msg[2]! & 0x01);
    header[3] = 0x80 | (address === undefined ? 3 : 0);
    header.writeUInt16BE(question ? 1 : 0, 4);
    header.writeUInt16BE(address !== undefined && isA ? 1 : 0, 6);
    header.writeUInt16BE(0, 8);
    header.writeUInt16BE(0, 10);
    const parts = [header, question ? msg.subarray(12, question.end) : Buffer.alloc(0)];
    if (address !== undefined && isA) {
      parts.push(Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]));
      parts.push(Buffer.from(address.split('.').map(Number)));
    }
    socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  });
  socket.bind(port, host);
  await once(socket, 'listening');
  return socket;
}
