/**
 * A gateway behind a plain h2 listener on loopback (the trunk's TLS is tested in
 * @splitrelay/trunk), loopback targets, and a client that encapsulates Binary HTTP requests
 * the way the SDK does.
 */
import http from 'node:http';
import http2 from 'node:http2';
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  decodeResponse,
  encodeRequest,
  BhttpParser,
  type BhttpRequest,
  type BhttpResponse,
} from '@splitrelay/bhttp';
import {
  decodeKeys,
  encapsulateChunkedRequest,
  encapsulateRequest,
  MEDIA_TYPES,
  type KeyConfig,
} from '@splitrelay/ohttp';
import { compilePolicy } from '@splitrelay/target-policy';
import { createTargetDialer, withStaticHosts } from '@splitrelay/target-dialer';
import { OHTTP_GATEWAY_PATH } from '@splitrelay/trunk';
import {
  createOhttpGateway,
  createOriginAgent,
  publishedKeys,
  type KeyRing,
  type OhttpGateway,
  type OhttpGatewayOptions,
} from '../src/index.ts';

export const HOST = '127.0.0.1';

export interface Harness {
  readonly gateway: OhttpGateway;
  readonly port: number;
  readonly session: http2.ClientHttp2Session;
  /** The ring whose published keys `configs` gives (tests rotating keys set it). */
  ring: KeyRing;
  configs(): Promise<KeyConfig[]>;
  close(): Promise<void>;
}

export async function harness(
  ring: KeyRing,
  extra: Partial<OhttpGatewayOptions> = {},
  policy = { allowCidrs: ['127.0.0.1/32'] },
): Promise<Harness> {
  const dialer = createTargetDialer({
    policy: compilePolicy(policy),
    connectTimeoutMs: 2000,
    dnsTimeoutMs: 1000,
    resolve: withStaticHosts({ 'target.test': [HOST], 'private.test': ['10.0.0.1'] }, async () => {
      throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
    }),
  });
  const gateway = await createOhttpGateway({
    keys: ring,
    agent: createOriginAgent({ dialer, connectTimeoutMs: 2000 }),
    limits: { maxRequestBytes: 64 * 1024, maxResponseBytes: 2 * 1024 * 1024, maxConcurrent: 64 },
    timeouts: { requestMs: 500, targetHeadersMs: 2000, targetBodyMs: 2000 },
    proxyName: 'gateway-test',
    ...extra,
  });
  const server = http2.createServer();
  server.on('stream', (stream: http2.ServerHttp2Stream, headers) =>
    gateway.handle(stream, headers),
  );
  server.listen(0, HOST);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const session = http2.connect(`http://${HOST}:${port}`);
  const h: Harness = {
    gateway,
    port,
    session,
    ring,
    configs: async () => decodeKeys(await publishedKeys(h.ring)).value,
    async close() {
      session.destroy();
      await gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return h;
}

export interface Answer {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One POST on the gateway's stream path; `pieces` are written as given, then the end. */
export async function post(
  session: http2.ClientHttp2Session,
  type: string,
  pieces: readonly Uint8Array[],
  options: { end?: boolean; path?: string } = {},
): Promise<Answer> {
  const stream = session.request({
    ':method': 'POST',
    ':path': options.path ?? OHTTP_GATEWAY_PATH,
    'content-type': type,
  });
  for (const p of pieces) stream.write(p);
  if (options.end !== false) stream.end();
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { status: Number(headers[':status']), headers, body: Buffer.concat(chunks) };
}

export function bhttpRequest(url: string, init: Partial<BhttpRequest> = {}): BhttpRequest {
  const u = new URL(url);
  return {
    method: 'GET',
    scheme: u.protocol.replace(':', ''),
    authority: u.host,
    path: `${u.pathname}${u.search}`,
    headers: [],
    content: new Uint8Array(0),
    trailers: [],
    ...init,
  };
}

/** The plain exchange: encapsulate, POST, decapsulate, decode. */
export async function exchange(
  h: Harness,
  request: BhttpRequest,
  config?: KeyConfig,
): Promise<{ answer: Answer; response?: BhttpResponse }> {
  const cfg = config ?? (await h.configs())[0]!;
  const { encapsulatedRequest, context } = await encapsulateRequest(cfg, encodeRequest(request));
  const answer = await post(h.session, MEDIA_TYPES.request, [encapsulatedRequest]);
  if (answer.status !== 200) return { answer };
  const response = decodeResponse(context.decapsulateResponse(answer.body)).value;
  return { answer, response };
}

/** The chunked exchange; the response is parsed chunk by chunk as it arrives. */
export async function chunkedExchange(
  h: Harness,
  request: BhttpRequest,
  config?: KeyConfig,
): Promise<{ answer: Answer; status?: number; content?: Buffer }> {
  const cfg = config ?? (await h.configs())[0]!;
  const writer = await encapsulateChunkedRequest(cfg);
  const bytes = encodeRequest(request, { framing: 'indeterminate' });
  const half = Math.floor(bytes.length / 2);
  const pieces = [
    writer.header,
    await writer.sealChunk(bytes.subarray(0, half)),
    await writer.sealFinal(bytes.subarray(half)),
  ];
  const answer = await post(h.session, MEDIA_TYPES.chunkedRequest, pieces);
  if (answer.status !== 200) return { answer };
  const decoder = writer.responseDecoder();
  let status: number | undefined;
  const content: Buffer[] = [];
  const parser = new BhttpParser({
    kind: 'response',
    onEvent(e) {
      if (e.type === 'response-head') status = e.status;
      if (e.type === 'content') content.push(Buffer.from(e.chunk));
    },
  });
  // Fed in pieces of 1000 bytes, as a network would.
  for (let at = 0; at < answer.body.length; at += 1000) {
    for (const pt of decoder.push(answer.body.subarray(at, at + 1000))) parser.push(pt);
  }
  parser.push(decoder.end());
  parser.end();
  return { answer, status, content: Buffer.concat(content) };
}

/** A loopback HTTP target that echoes the request and serves a large body at /big. */
export async function httpTarget(): Promise<{
  port: number;
  seen: http.IncomingMessage[];
  close(): Promise<void>;
}> {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 16; i++) res.write(Buffer.alloc(64 * 1024, i));
        res.end();
        return;
      }
      if (req.url === '/huge') {
        res.writeHead(200);
        res.end(Buffer.alloc(3 * 1024 * 1024));
        return;
      }
      res.writeHead(201, { 'content-type': 'text/plain', 'x-target': 'yes' });
      res.end(`${req.method} ${req.url} ${req.headers['x-asked'] ?? ''} ${Buffer.concat(chunks)}`);
    });
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A UDP DNS responder: answers every A query with 192.0.2.1, or TC=1 to force TCP. */
export async function dnsResponder(truncate = false): Promise<{
  port: number;
  queries: Buffer[];
  close(): Promise<void>;
}> {
  const socket = dgram.createSocket('udp4');
  const queries: Buffer[] = [];
  const answer = (query: Buffer): Buffer => {
    const header = Buffer.from(query.subarray(0, 12));
    header[2] = 0x80 | (query[2]! & 0x01);
    header[3] = 0x80;
    header.writeUInt16BE(1, 6);
    const record = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    return Buffer.concat([header, query.subarray(12), record]);
  };
  socket.on('message', (msg, rinfo) => {
    queries.push(msg);
    const reply = answer(msg);
    if (truncate) reply[2] = reply[2]! | 0x02;
    socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.bind(0, HOST);
  await once(socket, 'listening');
  const port = socket.address().port;
  // The same port over TCP, for the truncated case.
  const { createServer } = await import('node:net');
  const tcp = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
      queries.push(Buffer.from(q));
      const reply = answer(q);
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(reply.length, 0);
      conn.end(Buffer.concat([prefix, reply]));
    });
  });
  tcp.listen(port, HOST);
  await once(tcp, 'listening');
  return {
    port,
    queries,
    close: async () => {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/** A DNS query for `name`, type A, with the given ID. */
export function dnsQuery(id: number, name: string): Buffer {
  const labels = name
    .split('.')
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}
