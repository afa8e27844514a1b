/**
 * Loaded into a relay process with `node --import`, this records what the process learns:
 * every chunk any stream of it reads (after TLS decryption: tunnel bytes, h2 DATA), every
 * decoded request head it handles (HTTP/1.1 `connect`/`request`, h2 `stream`/`response`
 * headers, which never pass through a JS read), and the address of every peer that
 * connects to it. On exit it writes all of it to $SPLITRELAY_CAPTURE for the auditor's
 * check. Test-only: production code has no such hook.
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';

const file = process.env.SPLITRELAY_CAPTURE;
const limit = 256 * 1024 * 1024;
const parts: Buffer[] = [];
let size = 0;
let truncated = false;

function record(bytes: Buffer): void {
  if (size + bytes.length > limit) {
    truncated = true;
    return;
  }
  size += bytes.length;
  parts.push(Buffer.from(bytes));
}
const note = (label: string, value: unknown): void =>
  record(Buffer.from(`\n[${label}] ${JSON.stringify(value)}\n`));

if (file) {
  const push = Readable.prototype.push;
  Readable.prototype.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
    if (Buffer.isBuffer(chunk)) record(chunk);
    else if (typeof chunk === 'string') record(Buffer.from(chunk, encoding));
    return push.call(this, chunk, encoding);
  };

  const emit = EventEmitter.prototype.emit;
  EventEmitter.prototype.emit = function (
    this: EventEmitter,
    event: string | symbol,
    ...args: unknown[]
  ) {
    switch (event) {
      case 'connect':
      case 'request': {
        const req = args[0] as { method?: string; url?: string; headers?: unknown } | undefined;
        if (req && typeof req === 'object' && 'headers' in req)
          note(`http1 ${String(event)}`, {
            method: req.method,
            url: req.url,
            headers: req.headers,
          });
        break;
      }
      case 'stream':
      case 'response':
      case 'headers':
      case 'push': {
        const headers = event === 'stream' ? args[1] : args[0];
        if (headers && typeof headers === 'object') note(`h2 ${String(event)}`, headers);
        break;
      }
      case 'connection':
      case 'secureConnection': {
        const socket = args[0] as { remoteAddress?: string; remotePort?: number } | undefined;
        if (socket && typeof socket === 'object' && 'remoteAddress' in socket)
          note('peer', `${socket.remoteAddress}:${socket.remotePort}`);
        break;
      }
    }
    return emit.call(this, event, ...args);
  };

  process.on('exit', () => {
    parts.push(Buffer.from(`\n[capture] ${size} bytes${truncated ? ' (truncated)' : ''}\n`));
    writeFileSync(file, Buffer.concat(parts));
  });
}
