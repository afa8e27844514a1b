/**
 * The client-side resolver: the DNS server the client's network hands out (in the lab, the dns
 * role, named by the client namespace's resolv.conf). It answers nothing useful (NXDOMAIN:
 * SplitRelay resolves targets at the egress) and records every query it receives, with its
 * source, in <out>/queries.jsonl as it arrives.
 *
 * Run: node client-resolver.ts <config.json>   (prints "client-resolver ready" once bound)
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import { RCODE_NXDOMAIN, decodeQuery, encodeAnswer } from '../dns-wire.ts';

export interface ClientResolverConfig {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly out: string;
}

const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ClientResolverConfig;
mkdirSync(config.out, { recursive: true });
const file = join(config.out, 'queries.jsonl');

async function bind(host: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  socket.on('message', (msg, rinfo) => {
    const at = new Date().toISOString();
    const peer = rinfo.address.includes(':')
      ? `[${rinfo.address}]:${rinfo.port}`
      : `${rinfo.address}:${rinfo.port}`;
    try {
      const question = decodeQuery(msg).value;
      appendFileSync(
        file,
        `${JSON.stringify({ at, peer, name: question.name, type: question.type })}\n`,
      );
      socket.send(
        encodeAnswer({ question, rcode: RCODE_NXDOMAIN, addresses: [] }),
        rinfo.port,
        rinfo.address,
      );
    } catch {
      appendFileSync(file, `${JSON.stringify({ at, peer, malformed: msg.toString('base64') })}\n`);
    }
  });
  socket.bind(config.port, host);
  await once(socket, 'listening');
  return socket;
}

const sockets = await Promise.all(config.hosts.map(bind));
process.stdout.write(`client-resolver ready ${JSON.stringify(config.hosts)}\n`);
const stop = (): void => {
  for (const s of sockets) s.close();
  setTimeout(() => process.exit(0), 100).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
