/**
 * Loaded into a process with `node --import` (see CAPTURE_PRELOAD), this records what the
 * process learns, to the file named by $SPLITRELAY_CAPTURE:
 *
 * - every chunk any JavaScript stream of it reads (after TLS decryption: tunnel bytes, h2
 *   DATA, request bodies), and every UDP datagram it receives;
 * - every head its HTTP parsers decode, which never passes through a JavaScript read (the
 *   native parsers consume it): HTTP/1.1 `request`, `connect` and `upgrade` on servers (with
 *   the bytes that arrived behind the head, which no read sees either) and responses on
 *   clients, h2 request headers (`stream`), responses, informational headers, trailers, pushes;
 * - the address of every peer: connections accepted and opened, UDP peers.
 *
 * Records go out in batches (at most 250 ms late, or 4 MiB), so a process that is killed
 * loses only its last moments; a normal exit writes an `end` record. Test and audit only:
 * production code has no such hook, and nothing here changes what the process does (every
 * observation is wrapped so that it cannot throw into the code it watches).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { CAPTURE_MAGIC, encodeRecord } from './codec.ts';
import { CAPTURE_ENV, CAPTURE_LIMIT_ENV } from './env.ts';
import type { CaptureRecord, HeadKind, HeadRecord } from './records.ts';

const DEFAULT_LIMIT_BYTES = 256 * 1024 * 1024;
const FLUSH_BYTES = 4 * 1024 * 1024;
const FLUSH_MS = 250;
/** Reads are cut into records of at most this much (the reader's limit is far above it). */
const READ_PIECE_BYTES = 1024 * 1024;

const file = process.env[CAPTURE_ENV];
if (file) install(file, Number(process.env[CAPTURE_LIMIT_ENV] ?? DEFAULT_LIMIT_BYTES));

function install(path: string, limit: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, CAPTURE_MAGIC);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let recordedBytes = 0;
  let droppedBytes = 0;
  let open = true;

  const flush = (): void => {
    if (!open || pending.length === 0) return;
    const all = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    for (let off = 0; off < all.length;) off += writeSync(fd, all, off);
  };
  const write = (record: CaptureRecord): void => {
    const bytes = encodeRecord(record);
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= FLUSH_BYTES) flush();
  };

  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const streamId = (stream: object): number => {
    let id = ids.get(stream);
    if (id === undefined) {
      id = nextId++;
      ids.set(stream, id);
      write({ type: 'stream', stream: id, source: sourceOf(stream), ...remoteOf(stream) });
    }
    return id;
  };
  const read = (stream: object, bytes: Uint8Array): void => {
    const id = streamId(stream);
    if (bytes.length === 0) return;
    if (recordedBytes + bytes.length > limit) {
      droppedBytes += bytes.length;
      return;
    }
    recordedBytes += bytes.length;
    for (let off = 0; off < bytes.length; off += READ_PIECE_BYTES)
      write({ type: 'read', stream: id, bytes: bytes.subarray(off, off + READ_PIECE_BYTES) });
  };

  // One record per connection: a TLS socket and its TCP socket, or an http server handed a
  // socket another server accepted, name the same four-tuple.
  const seenPeers = new Set<string>();
  const peer = (
    transport: 'tcp' | 'udp',
    direction: 'in' | 'out',
    remote: { address?: string | undefined; port?: number | undefined },
    local: { address?: string | undefined; port?: number | undefined } = {},
  ): void => {
    if (typeof remote.address !== 'string' || typeof remote.port !== 'number') return;
    const key = `${transport} ${remote.address} ${remote.port} ${local.address} ${local.port}`;
    if (seenPeers.has(key)) return;
    seenPeers.add(key);
    write({
      type: 'peer',
      transport,
      direction,
      remoteAddress: remote.address,
      remotePort: remote.port,
      ...(typeof local.address === 'string' ? { localAddress: local.address } : {}),
      ...(typeof local.port === 'number' ? { localPort: local.port } : {}),
    });
  };
  const socketPeer = (socket: net.Socket, direction: 'in' | 'out'): void =>
    peer(
      'tcp',
      direction,
      { address: socket.remoteAddress, port: socket.remotePort },
      { address: socket.localAddress, port: socket.localPort },
    );

  const head = (
    kind: HeadKind,
    on: object | undefined,
    fields: Omit<HeadRecord, 'type' | 'kind'>,
  ) => write({ type: 'head', kind, ...(on ? { stream: streamId(on) } : {}), ...fields });

  const http1Head = (message: http.IncomingMessage, kind: HeadKind, rest?: unknown): void => {
    const headers = pairs(message.rawHeaders);
    // A response a client parsed has a null method and a status.
    if (typeof message.method !== 'string') {
      head('http1-response', message.socket ?? undefined, {
        status: message.statusCode ?? 0,
        headers,
      });
    } else {
      head(kind, message.socket ?? undefined, {
        method: message.method,
        target: message.url ?? '',
        headers,
      });
    }
    // The bytes behind the head were read by the parser, not by any JavaScript read.
    if (message.socket && rest instanceof Uint8Array) read(message.socket, rest);
  };

  const h2Requests = new WeakSet<object>();
  const h2Head = (kind: HeadKind, stream: object, headers: unknown, raw: unknown): void => {
    const list = Array.isArray(raw) ? pairs(raw) : objectPairs(headers);
    const get = (name: string): string | undefined => list.find(([n]) => n === name)?.[1];
    const status = get(':status');
    const target = get(':path') ?? get(':authority');
    const method = get(':method');
    head(kind, stream, {
      ...(method === undefined ? {} : { method }),
      ...(target === undefined ? {} : { target }),
      ...(status === undefined ? {} : { status: Number(status) }),
      headers: list,
    });
  };

  const observe = (self: object, event: string, args: readonly unknown[]): void => {
    const a0 = args[0];
    switch (event) {
      case 'connection':
      case 'secureConnection':
        if (self instanceof net.Server && a0 instanceof net.Socket) socketPeer(a0, 'in');
        return;
      case 'connect':
        if (self instanceof net.Socket && args.length === 0) socketPeer(self, 'out');
        else if (self instanceof dgram.Socket) {
          const remote = self.remoteAddress();
          peer('udp', 'out', remote, self.address());
        } else if (a0 instanceof http.IncomingMessage) http1Head(a0, 'http1-connect', args[2]);
        return;
      case 'upgrade':
        if (a0 instanceof http.IncomingMessage) http1Head(a0, 'http1-upgrade', args[2]);
        return;
      case 'request':
      case 'response':
        if (a0 instanceof http.IncomingMessage) http1Head(a0, 'http1-request');
        else if (event === 'response' && isH2Stream(self)) h2Head('h2-response', self, a0, args[2]);
        return;
      case 'stream':
        if (isH2Stream(a0) && !h2Requests.has(a0)) {
          // A server session emits it, then its server again: one head per stream.
          h2Requests.add(a0);
          h2Head('h2-request', a0, args[1], args[3]);
        }
        return;
      case 'headers':
      case 'trailers':
      case 'push':
        if (isH2Stream(self))
          h2Head(
            event === 'headers' ? 'h2-headers' : event === 'trailers' ? 'h2-trailers' : 'h2-push',
            self,
            a0,
            event === 'push' ? undefined : args[2],
          );
        return;
      case 'message':
        if (self instanceof dgram.Socket && a0 instanceof Uint8Array) {
          const rinfo = args[1] as dgram.RemoteInfo | undefined;
          if (rinfo) peer('udp', 'in', rinfo, self.address());
          read(self, a0);
        }
        return;
    }
  };

  const push = Readable.prototype.push;
  Readable.prototype.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
    try {
      if (chunk instanceof Uint8Array) read(this, chunk);
      else if (typeof chunk === 'string') read(this, Buffer.from(chunk, encoding));
    } catch {
      // An observer must never change what the process does.
    }
    return push.call(this, chunk, encoding);
  };

  const watched = new Set([
    'connection',
    'secureConnection',
    'connect',
    'upgrade',
    'request',
    'response',
    'stream',
    'headers',
    'trailers',
    'push',
    'message',
  ]);
  const emit = EventEmitter.prototype.emit;
  EventEmitter.prototype.emit = function (
    this: EventEmitter,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (typeof event === 'string' && watched.has(event)) {
      try {
        observe(this, event, args);
      } catch {
        // As above: a record lost is better than a behaviour changed.
      }
    }
    return emit.call(this, event, ...args);
  };

  setInterval(() => {
    try {
      flush();
    } catch {
      // A full disk stops the capture, not the process.
    }
  }, FLUSH_MS).unref();
  process.on('exit', () => {
    try {
      write({ type: 'end', recordedBytes, droppedBytes });
      flush();
      closeSync(fd);
    } finally {
      open = false;
    }
  });
}

/** An h2 stream (the class is not exported): it belongs to a session and has an rstCode. */
function isH2Stream(value: unknown): value is object {
  return typeof value === 'object' && value !== null && 'session' in value && 'rstCode' in value;
}

function sourceOf(stream: object): string {
  if (stream instanceof dgram.Socket) {
    try {
      return stream.address().family === 'IPv6' ? 'udp6' : 'udp4';
    } catch {
      return 'udp';
    }
  }
  return stream.constructor?.name || 'stream';
}

function remoteOf(stream: object): { remoteAddress?: string; remotePort?: number } {
  const s = stream as { remoteAddress?: unknown; remotePort?: unknown };
  if (stream instanceof dgram.Socket || typeof s.remoteAddress !== 'string') return {};
  return {
    remoteAddress: s.remoteAddress,
    ...(typeof s.remotePort === 'number' ? { remotePort: s.remotePort } : {}),
  };
}

function pairs(flat: readonly unknown[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), String(flat[i + 1])]);
  return out;
}

function objectPairs(headers: unknown): [string, string][] {
  if (typeof headers !== 'object' || headers === null) return [];
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(headers))
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, String(v)]);
  return out;
}
