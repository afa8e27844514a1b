/**
 * What the deliberately leaky builds (the negative controls) hook into a real app, loaded with
 * `node --import` as the relay observation is. Each leak is a small, plausible mistake an
 * operator or a client build could make; the harness must catch every one of them.
 */
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { Readable } from 'node:stream';

type EventListener = (emitter: EventEmitter, event: string, args: readonly unknown[]) => void;
const listeners: EventListener[] = [];
let emitPatched = false;

/** Every event any emitter of the process emits (servers' 'connect', h2 'stream', …). */
export function watchEvents(listener: EventListener): void {
  listeners.push(listener);
  if (emitPatched) return;
  emitPatched = true;
  const emit = EventEmitter.prototype.emit;
  EventEmitter.prototype.emit = function (
    this: EventEmitter,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (typeof event === 'string') {
      for (const l of listeners) {
        try {
          l(this, event, args);
        } catch {
          // A leak must never break the app it rides in.
        }
      }
    }
    return emit.call(this, event, ...args);
  };
}

/** Headers added to every HTTP/2 request the process makes (the ingress's trunk streams). */
export function addToHttp2Requests(extra: () => Record<string, string>): void {
  const connect = http2.connect;
  (http2 as { connect: unknown }).connect = function (this: unknown, ...args: unknown[]) {
    const session = (connect as (...a: unknown[]) => http2.ClientHttp2Session).apply(this, args);
    const request = session.request.bind(session);
    session.request = ((
      headers?: http2.OutgoingHttpHeaders,
      options?: http2.ClientSessionRequestOptions,
    ) => request({ ...headers, ...extra() }, options)) as typeof session.request;
    return session;
  };
}

/** A log line in the apps' own format (pino JSON, `event` as the message key). */
export function leakLog(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), event, ...fields })}\n`);
}

/**
 * The targets a client process is asked for: SOCKS5 requests (RFC 1928 §4) read by its SOCKS
 * server, and CONNECT heads its HTTP proxy parses.
 */
export function watchClientTargets(onTarget: (authority: string) => void): void {
  const push = Readable.prototype.push;
  Readable.prototype.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
    if (
      Buffer.isBuffer(chunk) &&
      chunk.length > 7 &&
      chunk[0] === 5 &&
      (chunk[1] === 1 || chunk[1] === 3) &&
      chunk[2] === 0
    ) {
      try {
        if (chunk[3] === 3) {
          const len = chunk[4] as number;
          if (chunk.length >= 5 + len + 2)
            onTarget(
              `${chunk.subarray(5, 5 + len).toString('latin1')}:${chunk.readUInt16BE(5 + len)}`,
            );
        } else if (chunk[3] === 1 && chunk.length >= 10) {
          onTarget(`${[...chunk.subarray(4, 8)].join('.')}:${chunk.readUInt16BE(8)}`);
        }
      } catch {
        // Not a request after all.
      }
    }
    return push.call(this, chunk, encoding);
  };
  watchEvents((_emitter, event, args) => {
    if (event !== 'connect') return;
    const req = args[0] as { method?: string; url?: string } | undefined;
    if (req && typeof req === 'object' && req.method === 'CONNECT' && typeof req.url === 'string')
      onTarget(req.url);
  });
}

/** The value of `--config <file>` in this process's arguments (the apps' own flag). */
export function configPath(): string | undefined {
  const i = process.argv.indexOf('--config');
  return i >= 0 ? process.argv[i + 1] : undefined;
}
