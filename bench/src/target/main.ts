#!/usr/bin/env node
/**
 * The bench target, a process of its own (so it never competes with the measuring client on
 * the event loop): a TLS 1.3 AES-128-GCM port that streams or sinks bytes (protocol.ts), a
 * plain TCP hold port for idle flows and a UDP echo port. Prints one JSON `ready` line with
 * the three ports.
 *   node bench/src/target/main.ts --host 127.0.4.1 --cert cert.pem --key key.pem
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { setDefaultHighWaterMark } from 'node:stream';
import { parseArgs } from 'node:util';
import { BENCH_TLS } from '../kit/tls.ts';
import { UPLOAD_ACK, decodeTargetRequest, REQUEST_BYTES } from './protocol.ts';

const { values } = parseArgs({
  options: { host: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
if (!values.host || !values.cert || !values.key) throw new Error('usage: --host --cert --key');

// Same stream tuning as the relays (docs/design.md, "Performance facts"), so the target is not the
// bottleneck of any contender.
setDefaultHighWaterMark(false, 1024 * 1024);
const CHUNK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 2654435761) >>> 24;

function streamBytes(socket: tls.TLSSocket, size: number): void {
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

function serve(socket: tls.TLSSocket): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let head: Buffer = Buffer.alloc(0);
  let sinkLeft = -1;
  const onData = (chunk: Buffer): void => {
    if (sinkLeft >= 0) {
      sinkLeft -= chunk.length;
      if (sinkLeft <= 0) {
        sinkLeft = -1;
        socket.off('data', onData);
        socket.end(Uint8Array.of(UPLOAD_ACK));
      }
      return;
    }
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const request = decodeTargetRequest(head);
    if (!request) return;
    if (request.op === 'D') {
      socket.off('data', onData);
      socket.resume();
      streamBytes(socket, request.size);
    } else {
      sinkLeft = request.size;
      onData(head.subarray(REQUEST_BYTES));
    }
  };
  socket.on('data', onData);
}

const tlsServer = tls.createServer(
  { ...BENCH_TLS, cert: readFileSync(values.cert), key: readFileSync(values.key) },
  serve,
);
tlsServer.on('tlsClientError', () => {});
const holdServer = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.once('data', (d: Buffer) => socket.write(d.subarray(0, 1)));
});
holdServer.maxConnections = 100_000;

const listen = (server: net.Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: values.host, port: 0, backlog: 4096 }, () =>
      resolve((server.address() as net.AddressInfo).port),
    );
  });
// UDP echo: every datagram goes back to its sender unchanged (the UDP figures' target).
const udpEcho = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
udpEcho.on('message', (msg, rinfo) => udpEcho.send(msg, rinfo.port, rinfo.address));
udpEcho.on('error', () => {});
const udpPort = await new Promise<number>((resolve, reject) => {
  udpEcho.once('error', reject);
  udpEcho.bind({ address: values.host, port: 0 }, () => resolve(udpEcho.address().port));
});
const [tlsPort, holdPort] = await Promise.all([listen(tlsServer), listen(holdServer)]);
process.stdout.write(
  `${JSON.stringify({ event: 'ready', tls: tlsPort, hold: holdPort, udp: udpPort, pid: process.pid })}\n`,
);
const stop = (): void => process.exit(0);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
