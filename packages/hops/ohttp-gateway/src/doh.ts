/**
 * DNS over HTTPS (RFC 8484) reachable only through the gateway: a request for the DoH
 * authority (`DOH_AUTHORITY`, a `.invalid` name that no public resolver answers, so a client
 * cannot reach it any other way) is answered by forwarding the DNS message to the egress's
 * own resolver, never to a target the client names.
 *
 *   POST /dns-query  content-type: application/dns-message   body: DNS query   (RFC 8484 §4.1)
 *   GET  /dns-query?dns=<base64url DNS query>
 *     ─▶ a fresh UDP socket to the resolver, a random ID      (TCP when the answer is truncated)
 *     ─▶ 200 application/dns-message, the answer with the client's ID put back
 *
 * Each query gets its own socket (its own source port) and its own ID, so the resolver cannot
 * tie two queries together either; RFC 8484 §4.1 asks clients to send ID 0, which leaves
 * nothing in the message to link them by.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { RelayError } from '@splitrelay/errors';
import type { BhttpRequest, BhttpResponse, Field } from '@splitrelay/bhttp';
import { DOH_PATH } from '@splitrelay/ohttp';

export const DNS_MESSAGE_TYPE = 'application/dns-message';
/** DNS header (RFC 1035 §4.1.1). */
const HEADER_BYTES = 12;
/** Largest DNS message (a TCP length prefix is 16 bits). */
const MAX_DNS_MESSAGE_BYTES = 65_535;
/** Queries larger than this go over TCP: the common EDNS(0) UDP size floor (DNS flag day 2020). */
const MAX_UDP_QUERY_BYTES = 1232;

export interface DohOptions {
  /** The resolver the egress itself uses, host:port. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** One query's whole exchange, ms. */
  readonly timeoutMs: number;
  /** Source address for queries to the resolver. */
  readonly localAddress?: string;
}

/** The query of a DoH request, or the refusal (the request's fault). */
export function dohQuery(request: BhttpRequest): Uint8Array {
  const [path, query = ''] = request.path.split('?', 2) as [string, string?];
  if (path !== DOH_PATH) throw new RelayError('malformed-request', `DoH is served at ${DOH_PATH}`);
  let message: Uint8Array;
  if (request.method === 'POST') {
    const type = request.headers.find((f) => f.name === 'content-type')?.value;
    if (type?.toLowerCase() !== DNS_MESSAGE_TYPE)
      throw new RelayError('unsupported-media-type', 'DoH takes application/dns-message');
    message = request.content;
  } else if (request.method === 'GET') {
    const dns = new URLSearchParams(query).get('dns');
    if (dns === null || !/^[A-Za-z0-9_-]+$/.test(dns))
      throw new RelayError('malformed-request', 'dns parameter missing or not base64url');
    message = new Uint8Array(Buffer.from(dns, 'base64url'));
  } else {
    throw new RelayError('method-not-allowed', 'DoH takes GET or POST');
  }
  if (message.length < HEADER_BYTES || message.length > MAX_DNS_MESSAGE_BYTES)
    throw new RelayError('malformed-request', 'not a DNS message');
  if ((message[2]! & 0x80) !== 0) throw new RelayError('malformed-request', 'not a DNS query');
  return message;
}

/** Forwards one query to the resolver and returns its answer, with the query's ID. */
export async function forwardDns(
  query: Uint8Array,
  options: DohOptions,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const id = randomInt(0, 0x10000);
  const sent = Buffer.from(query);
  sent.writeUInt16BE(id, 0);
  let answer =
    sent.length > MAX_UDP_QUERY_BYTES ? undefined : await overUdp(sent, id, options, signal);
  // TC (RFC 1035 §4.1.1): the answer did not fit a datagram; ask again over TCP (RFC 7766).
  if (answer === undefined || (answer[2]! & 0x02) !== 0) {
    answer = await overTcp(sent, id, options, signal);
  }
  const out = Buffer.from(answer);
  out.writeUInt16BE(Buffer.from(query).readUInt16BE(0), 0);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The DoH answer as a Binary HTTP response (RFC 8484 §4.2). */
export function dohResponse(answer: Uint8Array): BhttpResponse {
  const headers: Field[] = [
    { name: 'content-type', value: DNS_MESSAGE_TYPE },
    { name: 'content-length', value: String(answer.length) },
  ];
  return { informational: [], status: 200, headers, content: answer, trailers: [] };
}

function settleOnce<T>(signal: AbortSignal | undefined, timeoutMs: number, onEnd: () => void) {
  let done = false;
  let resolveFn: (v: T) => void = () => {};
  let rejectFn: (e: unknown) => void = () => {};
  const promise = new Promise<T>((resolve, reject) => {
    resolveFn = resolve;
    rejectFn = reject;
  });
  const finish = (fn: () => void): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    onEnd();
    fn();
  };
  const onAbort = (): void =>
    finish(() => rejectFn(new RelayError('connection-terminated', 'DNS query aborted')));
  const timer = setTimeout(
    () => finish(() => rejectFn(new RelayError('dns-timeout', 'resolver did not answer'))),
    timeoutMs,
  );
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    promise,
    resolve: (v: T) => finish(() => resolveFn(v)),
    reject: (e: unknown) => finish(() => rejectFn(e)),
  };
}

function matches(reply: Buffer, id: number): boolean {
  return reply.length >= HEADER_BYTES && reply.readUInt16BE(0) === id && (reply[2]! & 0x80) !== 0;
}

function overUdp(
  query: Buffer,
  id: number,
  options: DohOptions,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const socket = dgram.createSocket(net.isIPv6(options.upstream.host) ? 'udp6' : 'udp4');
  const step = settleOnce<Buffer>(signal, options.timeoutMs, () => socket.close());
  socket.on('error', (err) =>
    step.reject(new RelayError('dns-error', 'resolver unreachable', { cause: err })),
  );
  // Connected, so only the resolver's own datagrams are read; an answer for another ID is not ours.
  socket.on('message', (reply) => {
    if (matches(reply, id)) step.resolve(reply);
  });
  socket.bind({ port: 0, ...(options.localAddress ? { address: options.localAddress } : {}) }, () =>
    socket.connect(options.upstream.port, options.upstream.host, () => socket.send(query)),
  );
  return step.promise;
}

function overTcp(
  query: Buffer,
  id: number,
  options: DohOptions,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const socket = net.connect({
    host: options.upstream.host,
    port: options.upstream.port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const step = settleOnce<Buffer>(signal, options.timeoutMs, () => socket.destroy());
  let buffered = Buffer.alloc(0);
  socket.on('connect', () => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(query.length, 0);
    socket.end(Buffer.concat([prefix, query]));
  });
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < 2) return;
    const length = buffered.readUInt16BE(0);
    if (buffered.length < 2 + length) return;
    const reply = buffered.subarray(2, 2 + length);
    if (matches(reply, id)) step.resolve(Buffer.from(reply));
    else step.reject(new RelayError('dns-error', 'resolver answered another query'));
  });
  socket.on('error', (err) =>
    step.reject(new RelayError('dns-error', 'resolver unreachable', { cause: err })),
  );
  socket.on('close', () => step.reject(new RelayError('dns-error', 'resolver closed')));
  return step.promise;
}
