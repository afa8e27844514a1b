/**
 * A streaming binary HTTP decoder (RFC 9292): a state machine fed chunks of any size, which
 * emits events to a sink as each part completes. Content is never buffered: each content
 * event is a view of the bytes just pushed. Only one field line (or one known-length field
 * section, or one request control datum) is ever held back while it is incomplete, and every
 * length is checked against the caller's limits as soon as it is read, before any byte of
 * what it announces is waited for: a hostile length is an error, never an allocation.
 *
 *   events:  informational* (responses), request-head | response-head, content*, trailers, end
 *
 * Truncation (§3.1, §3.2): a message may end before the header section, before the content
 * or before the trailer section (for the indeterminate form: right after the control data or
 * after a section or the content's terminator); `end()` then emits the missing parts as empty.
 * Ending anywhere else is `BhttpError('truncated')`. Padding (§3.8) must be zero bytes.
 *
 * After any throw (including one from the sink), the parser is failed: later calls rethrow.
 */
import { decodeVarint } from '@splitrelay/connect-udp';
import { BhttpError } from './errors.ts';
import {
  checkField,
  checkRequestControl,
  checkStatus,
  latin1,
  resolveLimits,
  type BhttpLimits,
  type Field,
  type Framing,
  type RequestControl,
} from './message.ts';

export type BhttpEvent =
  | {
      readonly type: 'request-head';
      readonly framing: Framing;
      readonly control: RequestControl;
      readonly headers: readonly Field[];
    }
  | { readonly type: 'informational'; readonly status: number; readonly headers: readonly Field[] }
  | {
      readonly type: 'response-head';
      readonly framing: Framing;
      readonly status: number;
      readonly headers: readonly Field[];
    }
  /** A view into the pushed chunk: copy it to keep it past the next `push`. */
  | { readonly type: 'content'; readonly chunk: Uint8Array }
  | { readonly type: 'trailers'; readonly trailers: readonly Field[] }
  | { readonly type: 'end' };

export interface BhttpParserOptions {
  readonly kind: 'request' | 'response';
  readonly onEvent: (event: BhttpEvent) => void;
  readonly limits?: BhttpLimits;
}

type State = 'framing' | 'control' | 'status' | 'section' | 'content' | 'padding' | 'ended';
type Section = 'info' | 'header' | 'trailer';

const EMPTY = new Uint8Array(0);

export class BhttpParser {
  readonly #kind: 'request' | 'response';
  readonly #onEvent: (event: BhttpEvent) => void;
  readonly #limits: Required<BhttpLimits>;
  #state: State = 'framing';
  #framing: Framing = 'known-length';
  #buf: Uint8Array = EMPTY;
  #off = 0;
  #failure: { readonly error: unknown } | undefined;
  // Control data.
  #control: RequestControl | undefined;
  #status = 0;
  #informational = 0;
  // The field section being read.
  #section: Section = 'header';
  #fields: Field[] = [];
  /** Known-length: bytes of the section, -1 until its length is read. Indeterminate: bytes so far. */
  #sectionLength = -1;
  #sectionBytes = 0;
  // Content.
  #contentRemaining = -1;
  #contentTotal = 0;
  #contentStarted = false;

  constructor(options: BhttpParserOptions) {
    this.#kind = options.kind;
    this.#onEvent = options.onEvent;
    this.#limits = resolveLimits(options.limits);
  }

  /** True once the trailer section is complete (only padding may follow). */
  get complete(): boolean {
    return this.#state === 'padding' || this.#state === 'ended';
  }

  push(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure.error;
    if (this.#state === 'ended') throw this.#fail(new BhttpError('malformed', 'data after end'));
    try {
      this.#buf =
        this.#off < this.#buf.length ? concat(this.#buf.subarray(this.#off), chunk) : chunk;
      this.#off = 0;
      this.#run();
      // Keep only what is still unread, as a copy: the caller may reuse its chunk.
      this.#buf = this.#off >= this.#buf.length ? EMPTY : this.#buf.slice(this.#off);
      this.#off = 0;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  end(): void {
    if (this.#failure) throw this.#failure.error;
    if (this.#state === 'ended') return;
    try {
      this.#finish();
      this.#state = 'ended';
      this.#onEvent({ type: 'end' });
    } catch (error) {
      throw this.#fail(error);
    }
  }

  #fail(error: unknown): unknown {
    this.#failure = { error };
    return error;
  }

  /** Reads a varint at the cursor; undefined when incomplete. Lengths above 2^53 are too large. */
  #varint(): number | undefined {
    const d = decodeVarint(this.#buf, this.#off);
    if (!d.ok) return undefined;
    if (typeof d.value === 'bigint') throw new BhttpError('too-large', 'integer too large');
    this.#off += d.bytesRead;
    return d.value;
  }

  #run(): void {
    for (;;) {
      switch (this.#state) {
        case 'framing': {
          const start = this.#off;
          const f = this.#varint();
          if (f === undefined) return;
          const request = f === 0 || f === 2;
          if (f > 3 || request !== (this.#kind === 'request')) {
            this.#off = start;
            throw new BhttpError('malformed', `framing indicator not a ${this.#kind}`);
          }
          this.#framing = f < 2 ? 'known-length' : 'indeterminate';
          this.#state = this.#kind === 'request' ? 'control' : 'status';
          break;
        }
        case 'control':
          if (!this.#readControl()) return;
          break;
        case 'status': {
          const s = this.#varint();
          if (s === undefined) return;
          if (s >= 100 && s <= 199) {
            if (++this.#informational > this.#limits.maxInformational) {
              throw new BhttpError('too-large', 'too many informational responses');
            }
            this.#status = s;
            this.#startSection('info');
          } else {
            checkStatus(s, false);
            this.#status = s;
            this.#startSection('header');
          }
          break;
        }
        case 'section':
          if (!this.#readSection()) return;
          break;
        case 'content':
          if (!this.#readContent()) return;
          break;
        case 'padding':
          for (; this.#off < this.#buf.length; this.#off++) {
            if (this.#buf[this.#off] !== 0) throw new BhttpError('malformed', 'non-zero padding');
          }
          return;
        case 'ended':
          return;
      }
    }
  }

  #readControl(): boolean {
    const buf = this.#buf;
    let at = this.#off;
    const parts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = decodeVarint(buf, at);
      if (!d.ok) return false;
      if (typeof d.value === 'bigint' || d.value > this.#limits.maxControlBytes) {
        throw new BhttpError('too-large', 'request control data too large', true);
      }
      at += d.bytesRead;
      if (at + d.value > buf.length) return false;
      parts.push(latin1(buf.subarray(at, at + d.value)));
      at += d.value;
    }
    const [method, scheme, authority, path] = parts as [string, string, string, string];
    const control = { method, scheme, authority, path };
    checkRequestControl(control);
    this.#control = control;
    this.#off = at;
    this.#startSection('header');
    return true;
  }

  #startSection(section: Section): void {
    this.#state = 'section';
    this.#section = section;
    this.#fields = [];
    this.#sectionLength = -1;
    this.#sectionBytes = 0;
  }

  /** Parses one field line at `at` within `limit`; undefined when incomplete. */
  #fieldLine(at: number, limit: number): { field: Field; next: number } | undefined {
    const buf = this.#buf;
    const n = decodeVarint(buf, at);
    if (!n.ok || n.bytesRead + at > limit) return undefined;
    const max = this.#limits.maxFieldSectionBytes;
    if (typeof n.value === 'bigint' || n.value > max) {
      throw new BhttpError('too-large', 'field section too large', true);
    }
    if (n.value === 0) throw new BhttpError('malformed', 'empty field name');
    let p = at + n.bytesRead;
    if (p + n.value > limit) return undefined;
    const nameAt = p;
    p += n.value;
    const v = decodeVarint(buf, p);
    if (!v.ok || p + v.bytesRead > limit) return undefined;
    if (typeof v.value === 'bigint' || v.value > max) {
      throw new BhttpError('too-large', 'field section too large', true);
    }
    p += v.bytesRead;
    if (p + v.value > limit) return undefined;
    const field = {
      name: latin1(buf.subarray(nameAt, nameAt + n.value)),
      value: latin1(buf.subarray(p, p + v.value)),
    };
    checkField(field.name, field.value);
    return { field, next: p + v.value };
  }

  #addField(field: Field): void {
    if (this.#fields.length >= this.#limits.maxFields) {
      throw new BhttpError('too-large', 'too many fields', true);
    }
    this.#fields.push(field);
  }

  #readSection(): boolean {
    const max = this.#limits.maxFieldSectionBytes;
    if (this.#framing === 'known-length') {
      if (this.#sectionLength < 0) {
        const length = this.#varint();
        if (length === undefined) return false;
        if (length > max) throw new BhttpError('too-large', 'field section too large', true);
        this.#sectionLength = length;
      }
      const end = this.#off + this.#sectionLength;
      if (end > this.#buf.length) return false;
      let at = this.#off;
      while (at < end) {
        const line = this.#fieldLine(at, end);
        if (line === undefined)
          throw new BhttpError('malformed', 'field line overruns its section');
        this.#addField(line.field);
        at = line.next;
      }
      this.#off = end;
      this.#endSection();
      return true;
    }
    for (;;) {
      const d = decodeVarint(this.#buf, this.#off);
      if (!d.ok) return false;
      if (d.value === 0) {
        this.#off += d.bytesRead;
        this.#endSection();
        return true;
      }
      const line = this.#fieldLine(this.#off, this.#buf.length);
      if (line === undefined) {
        // Waiting for the rest of one line: bound what may be held back meanwhile.
        if (this.#sectionBytes + this.#buf.length - this.#off > max + 16) {
          throw new BhttpError('too-large', 'field section too large', true);
        }
        return false;
      }
      this.#sectionBytes += line.next - this.#off;
      if (this.#sectionBytes > max)
        throw new BhttpError('too-large', 'field section too large', true);
      this.#addField(line.field);
      this.#off = line.next;
    }
  }

  #endSection(): void {
    const headers = this.#fields;
    switch (this.#section) {
      case 'info':
        this.#state = 'status';
        this.#onEvent({ type: 'informational', status: this.#status, headers });
        return;
      case 'header':
        this.#state = 'content';
        this.#contentRemaining = -1;
        this.#emitHead(headers);
        return;
      case 'trailer':
        this.#state = 'padding';
        this.#onEvent({ type: 'trailers', trailers: headers });
        return;
    }
  }

  #emitHead(headers: readonly Field[]): void {
    if (this.#kind === 'request') {
      this.#onEvent({
        type: 'request-head',
        framing: this.#framing,
        control: this.#control as RequestControl,
        headers,
      });
    } else {
      this.#onEvent({
        type: 'response-head',
        framing: this.#framing,
        status: this.#status,
        headers,
      });
    }
  }

  #readContent(): boolean {
    const max = this.#limits.maxContentBytes;
    for (;;) {
      if (this.#contentRemaining <= 0) {
        if (this.#framing === 'known-length' && this.#contentRemaining === 0) {
          this.#startSection('trailer');
          return true;
        }
        const length = this.#varint();
        if (length === undefined) return false;
        if (this.#framing === 'known-length') {
          if (length > max) throw new BhttpError('too-large', 'content too large');
          this.#contentRemaining = length;
          this.#contentStarted = true;
          continue;
        }
        if (length === 0) {
          this.#startSection('trailer');
          return true;
        }
        if (this.#contentTotal + length > max)
          throw new BhttpError('too-large', 'content too large');
        this.#contentRemaining = length;
        this.#contentStarted = true;
      }
      const take = Math.min(this.#contentRemaining, this.#buf.length - this.#off);
      if (take === 0) return false;
      const chunk = this.#buf.subarray(this.#off, this.#off + take);
      this.#off += take;
      this.#contentRemaining -= take;
      this.#contentTotal += take;
      this.#onEvent({ type: 'content', chunk });
      // Indeterminate: a finished chunk leaves 0 and the loop reads the next length.
      if (this.#framing === 'indeterminate' && this.#contentRemaining === 0)
        this.#contentRemaining = -1;
    }
  }

  #finish(): void {
    const pending = this.#off < this.#buf.length;
    const atSectionStart =
      this.#state === 'section' &&
      (this.#framing === 'known-length' ? this.#sectionLength < 0 : this.#fields.length === 0);
    if (!pending && this.#state === 'section' && atSectionStart && this.#section === 'header') {
      this.#emitHead([]);
      this.#onEvent({ type: 'trailers', trailers: [] });
      return;
    }
    if (
      !pending &&
      this.#state === 'content' &&
      !this.#contentStarted &&
      this.#contentRemaining < 0
    ) {
      this.#onEvent({ type: 'trailers', trailers: [] });
      return;
    }
    if (!pending && this.#state === 'section' && atSectionStart && this.#section === 'trailer') {
      this.#onEvent({ type: 'trailers', trailers: [] });
      return;
    }
    if (this.#state === 'padding') return;
    throw new BhttpError('truncated', 'message ends inside a part that cannot be truncated');
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
