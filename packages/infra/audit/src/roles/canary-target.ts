/**
 * The auditor's canary target: HTTPS (pages, a POST, a bulk download), a UDP echo and an
 * authoritative DNS server for the canary zone, on the run's canary addresses and ports. It
 * records everything it receives, as it arrives (appended JSON lines, so a crash loses
 * nothing), in <out>/:
 *
 *   tls.jsonl      per TCP connection: the peer, and the raw first TLS record (the ClientHello)
 *   http.jsonl     per request: the peer, method, path, every header as sent, the body
 *   udp.jsonl      per datagram: the peer and the payload
 *   dns.jsonl      per query: the peer, the name and the type, and what was answered
 *
 * Run: node canary-target.ts <config.json>   (prints "canary-target ready" once listening)
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseAddress } from '@splitrelay/evidence';
import type { Canaries } from '../canaries.ts';
import {
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  RCODE_NOERROR,
  RCODE_NXDOMAIN,
  decodeQuery,
  encodeAnswer,
} from '../dns-wire.ts';

export interface CanaryTargetConfig {
  readonly canaries: Canaries;
  readonly cert: string;
  readonly key: string;
  readonly out: string;
  /** Size of the bulk download (GET /bulk), bytes. */
  readonly bulkBytes: number;
}

const BULK_BLOCK = 16 * 1024;
/** The first TLS record is held until complete, but never beyond this (a record is ≤ 16 KiB + 256). */
const MAX_FIRST_RECORD = 16 * 1024 + 256 + 5;

const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as CanaryTargetConfig;
const c = config.canaries;
mkdirSync(config.out, { recursive: true });
const record = (file: string, value: object): void =>
  appendFileSync(
    join(config.out, file),
    `${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`,
  );
const peerOf = (address: string | undefined, port: number | undefined): string =>
  address?.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** The bulk body: blocks of pseudo-random bytes, each starting with the bulk canary. */
function bulkBody(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    // xorshift32: cheap filler that compresses badly, so nothing shortcuts the transfer.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  for (let at = 0; at + c.bulkMarker.length <= size; at += BULK_BLOCK)
    out.write(c.bulkMarker, at, 'latin1');
  return out;
}
const bulk = bulkBody(config.bulkBytes);

const httpsServer = https.createServer(
  { cert: readFileSync(config.cert), key: readFileSync(config.key) },
  (req, res) => {
    const peer = peerOf(req.socket.remoteAddress, req.socket.remotePort);
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      record('http.jsonl', {
        peer,
        method: req.method,
        path: req.url,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        bodyBytes: body.length,
        body: body.subarray(0, 4096).toString('latin1'),
      });
      const headers = { 'x-seen-peer': peer, 'cache-control': 'no-store' };
      if (req.url === '/bulk') {
        res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream' });
        res.end(bulk);
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>canary</title><p>${c.page}</p><p>${body.length} bytes received</p>\n`,
      );
    });
  },
);
httpsServer.on('tlsClientError', () => {});

/** Hold each connection's first TLS record (the ClientHello), record it, then hand it to HTTPS. */
function onTcp(socket: net.Socket): void {
  socket.on('error', () => {});
  const peer = peerOf(socket.remoteAddress, socket.remotePort);
  let held = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    held = Buffer.concat([held, chunk]);
    const need = held.length >= 5 ? 5 + held.readUInt16BE(3) : Infinity;
    if (held.length < need && held.length < MAX_FIRST_RECORD) return;
    socket.off('data', onData);
    socket.pause();
    record('tls.jsonl', {
      peer,
      local: peerOf(socket.localAddress, socket.localPort),
      firstRecord: held.subarray(0, Math.min(need, held.length)).toString('base64'),
    });
    socket.unshift(held);
    httpsServer.emit('connection', socket);
  };
  socket.on('data', onData);
}

async function listenTcp(host: string): Promise<net.Server> {
  const server = net.createServer(onTcp);
  server.listen(c.httpsPort, host);
  await once(server, 'listening');
  return server;
}

async function udpServer(
  host: string,
  port: number,
  onMessage: (s: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => onMessage(socket, msg, rinfo));
  socket.on('error', () => {});
  socket.bind(port, host);
  await once(socket, 'listening');
  return socket;
}

const echo = (s: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void => {
  record('udp.jsonl', {
    peer: peerOf(rinfo.address, rinfo.port),
    bytes: msg.length,
    payload: msg.toString('base64'),
    text: msg.toString('latin1'),
  });
  s.send(msg, rinfo.port, rinfo.address);
};

const v4 = parseAddress(c.targetV4)!.bytes;
const v6 = c.targetV6 ? parseAddress(c.targetV6)!.bytes : undefined;
const answerDns = (s: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void => {
  let question;
  try {
    question = decodeQuery(msg).value;
  } catch {
    record('dns.jsonl', {
      peer: peerOf(rinfo.address, rinfo.port),
      malformed: msg.toString('base64'),
    });
    return;
  }
  const ours = question.name === c.targetName || question.name === c.dnsQuestion;
  const addresses = !ours
    ? []
    : question.type === DNS_TYPE_A
      ? [v4]
      : question.type === DNS_TYPE_AAAA && v6
        ? [v6]
        : [];
  record('dns.jsonl', {
    peer: peerOf(rinfo.address, rinfo.port),
    name: question.name,
    type: question.type,
    answered: addresses.length,
  });
  const reply = encodeAnswer({ question, rcode: ours ? RCODE_NOERROR : RCODE_NXDOMAIN, addresses });
  s.send(reply, rinfo.port, rinfo.address);
};

const hosts = [c.targetV4, ...(c.targetV6 ? [c.targetV6] : [])];
const servers = await Promise.all(hosts.map(listenTcp));
const sockets = (
  await Promise.all(
    hosts.map((h) =>
      Promise.all([udpServer(h, c.udpPort, echo), udpServer(h, c.dnsPort, answerDns)]),
    ),
  )
).flat();
process.stdout.write(
  `canary-target ready ${JSON.stringify({ hosts, https: c.httpsPort, udp: c.udpPort, dns: c.dnsPort })}\n`,
);

const stop = (): void => {
  for (const s of servers) s.close();
  for (const s of sockets) s.close();
  httpsServer.close();
  httpsServer.closeAllConnections();
  setTimeout(() => process.exit(0), 200).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
