/**
 * A DNS server on loopback that a device's resolver can point at: every query, over UDP or
 * TCP (RFC 1035 §4.2, RFC 7766), is handed to `resolve` (the client app sends it as DoH
 * through Oblivious HTTP) and the answer goes back to the asker.
 *
 *   query ─▶ checked (a DNS query, bounded) ─▶ ID set to 0 ─▶ resolve ─▶ asker's ID put back
 *   failure ─▶ SERVFAIL with the asker's question (RFC 1035 §4.1.1), never silence
 *
 * The ID is 0 on the way out (RFC 8484 §4.1), so nothing in one query's message ties it to
 * the next: each is its own request to the gateway.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import type { LocalProxyLogger } from './types.ts';

export type DnsResolve = (query: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>;

export interface DnsForwarderOptions {
  readonly resolve: DnsResolve;
  /** One query's whole exchange, ms (then SERVFAIL). Default 5 s. */
  readonly timeoutMs?: number;
  /** Queries in progress at once; beyond, SERVFAIL at once. Default 256. */
  readonly maxInFlight?: number;
  /** A TCP connection with no query for this long is closed, ms. Default 10 s (RFC 7766 §6.2.3). */
  readonly tcpIdleMs?: number;
  readonly logger?: LocalProxyLogger;
}

export interface DnsForwarder {
  /** Listens on UDP and, with `tcp`, TCP at the same address; returns the UDP address. */
  listen(host: string, port: number, tcp?: boolean): Promise<{ address: string; port: number }>;
  readonly answered: number;
  readonly failed: number;
  close(): Promise<void>;
}

const HEADER_BYTES = 12;
const MAX_MESSAGE_BYTES = 65_535;

/** A message that is a query with a header, or undefined: not worth an answer. */
function isQuery(message: Uint8Array): boolean {
  return message.length >= HEADER_BYTES && (message[2]! & 0x80) === 0;
}

/** SERVFAIL (rcode 2) for `query`: its header and question back, QR=1, RA=1, no records. */
export function servfail(query: Uint8Array): Buffer {
  const header = Buffer.from(query.subarray(0, HEADER_BYTES));
  const questions = header.readUInt16BE(4);
  header[2] = 0x80 | (header[2]! & 0x79);
  header[3] = 0x80 | 0x02;
  header.writeUInt16BE(0, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  // The question section, when it can be delimited; otherwise none.
  let at = HEADER_BYTES;
  for (let q = 0; q < questions && at < query.length; q++) {
    while (at < query.length && query[at] !== 0) {
      if ((query[at]! & 0xc0) !== 0) return withoutQuestions(header);
      at += 1 + query[at]!;
    }
    at += 1 + 4;
  }
  if (at > query.length) return withoutQuestions(header);
  return Buffer.concat([header, query.subarray(HEADER_BYTES, at)]);
}

function withoutQuestions(header: Buffer): Buffer {
  header.writeUInt16BE(0, 4);
  return header;
}

export function createDnsForwarder(options: DnsForwarderOptions): DnsForwarder {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxInFlight = options.maxInFlight ?? 256;
  const tcpIdleMs = options.tcpIdleMs ?? 10_000;
  let inFlight = 0;
  let answered = 0;
  let failed = 0;
  const aborts = new Set<AbortController>();
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  const connections = new Set<net.Socket>();

  /** The answer to send for `query` (never throws). */
  async function answer(query: Uint8Array): Promise<Buffer> {
    if (inFlight >= maxInFlight) {
      failed++;
      return servfail(query);
    }
    inFlight++;
    const abort = new AbortController();
    aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const outgoing = Buffer.from(query);
      outgoing.writeUInt16BE(0, 0);
      const reply = Buffer.from(await options.resolve(outgoing, abort.signal));
      if (reply.length < HEADER_BYTES || (reply[2]! & 0x80) === 0) throw new Error('not an answer');
      reply.writeUInt16BE(Buffer.from(query).readUInt16BE(0), 0);
      answered++;
      return reply;
    } catch (err) {
      failed++;
      options.logger?.debug('dns query failed', {
        reason: err instanceof Error ? err.message : 'failed',
      });
      return servfail(query);
    } finally {
      clearTimeout(timer);
      aborts.delete(abort);
      inFlight--;
    }
  }

  function serveTcp(socket: net.Socket): void {
    connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(tcpIdleMs, () => socket.destroy());
    socket.on('error', () => {});
    socket.once('close', () => connections.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Several queries may come at once on one connection; each is answered as it resolves.
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const query = Buffer.from(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        if (!isQuery(query)) {
          socket.destroy();
          return;
        }
        void answer(query).then((reply) => {
          if (socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length, 0);
          socket.write(Buffer.concat([prefix, reply]));
        });
      }
    });
  }

  return {
    async listen(host, port, withTcp = false) {
      udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      udp.on('error', () => {});
      udp.on('message', (msg, rinfo) => {
        if (!isQuery(msg) || msg.length > MAX_MESSAGE_BYTES) return;
        void answer(msg).then((reply) => {
          // RFC 1035 §4.2.1: a UDP answer over 512 bytes (no EDNS here) is cut and marked TC,
          // and the asker retries over TCP.
          const out = reply.length > 512 && withTcp ? truncated(reply, msg) : reply;
          udp?.send(out, rinfo.port, rinfo.address);
        });
      });
      udp.bind(port, host);
      await once(udp, 'listening');
      const bound = udp.address();
      if (withTcp) {
        tcp = net.createServer(serveTcp);
        tcp.listen(bound.port, host);
        await once(tcp, 'listening');
      }
      return { address: bound.address, port: bound.port };
    },
    get answered() {
      return answered;
    },
    get failed() {
      return failed;
    },
    async close() {
      for (const a of aborts) a.abort();
      for (const c of connections) c.destroy();
      await Promise.all([
        udp ? new Promise<void>((resolve) => udp!.close(() => resolve())) : undefined,
        tcp ? new Promise<void>((resolve) => tcp!.close(() => resolve())) : undefined,
      ]);
    },
  };
}

/**
 * An answer too large for UDP: only the header (TC=1) and the question, unless the asker
 * used EDNS(0) (RFC 6891), which announced that it takes more; then it is sent as it is.
 */
function truncated(reply: Buffer, query: Uint8Array): Buffer {
  const additional = Buffer.from(query).readUInt16BE(10);
  if (additional > 0) return reply;
  const cut = servfail(query);
  cut[3] = reply[3]!;
  cut[2] = cut[2]! | 0x02;
  return cut;
}
