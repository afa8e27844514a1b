import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  BhttpError,
  BhttpParser,
  type BhttpErrorKind,
  type BhttpEvent,
  type BhttpRequest,
  type BhttpResponse,
  type Field,
} from '../src/index.ts';

export const hex = (s: string): Uint8Array =>
  new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export const examples = JSON.parse(
  readFileSync(new URL('./vectors/rfc9292-examples.json', import.meta.url), 'utf8'),
) as Record<string, string>;

/** Splits `bytes` at the given cut points (taken modulo its length). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

/** Feeds `chunks` and returns the events, content merged into one event so chunkings compare. */
export function events(kind: 'request' | 'response', chunks: readonly Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  let content: number[] | undefined;
  const parser = new BhttpParser({
    kind,
    onEvent(e: BhttpEvent) {
      if (e.type === 'content') {
        content ??= [];
        content.push(...e.chunk);
        return;
      }
      if (content) out.push({ type: 'content', bytes: content });
      content = undefined;
      out.push(e);
    },
  });
  for (const c of chunks) parser.push(c);
  parser.end();
  return out;
}

export function isKind(kind: BhttpErrorKind) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof BhttpError, `expected BhttpError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    return true;
  };
}

export function onlyBhttpErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BhttpError, `unexpected ${String(err)}`);
  }
}

const nameArb = fc
  .stringMatching(/^[a-z0-9!#$%&'*+\-.^_`|~]{1,12}$/)
  .filter(
    (n) =>
      ![
        'connection',
        'keep-alive',
        'proxy-connection',
        'transfer-encoding',
        'upgrade',
        'te',
      ].includes(n),
  );
const valueArb = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[\x21-\x7e\x80-\xff]([\x20-\x7e\x80-\xff\t]{0,30}[\x21-\x7e\x80-\xff])?$/),
);
// Plain objects (fc.record builds null-prototype ones), as the decoder builds them.
export const fieldsArb: fc.Arbitrary<Field[]> = fc.array(
  fc.record({ name: nameArb, value: valueArb }).map((f) => ({ ...f })),
  { maxLength: 6 },
);
const contentArb = fc.uint8Array({ maxLength: 200 });

export const requestArb: fc.Arbitrary<BhttpRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS', 'X-CUSTOM'),
    scheme: fc.constantFrom('https', 'http', ''),
    authority: fc.constantFrom('', 'example.com', 'a.example:8443', '[::1]:443'),
    path: fc.constantFrom('/', '/hello.txt', '/a?b=c', '*', ''),
    headers: fieldsArb,
    content: contentArb,
    trailers: fieldsArb,
  })
  .map((r) => ({ ...r }));

export const responseArb: fc.Arbitrary<BhttpResponse> = fc
  .record({
    informational: fc.array(
      fc
        .record({ status: fc.integer({ min: 100, max: 199 }), headers: fieldsArb })
        .map((i) => ({ ...i })),
      {
        maxLength: 2,
      },
    ),
    status: fc.integer({ min: 200, max: 599 }),
    headers: fieldsArb,
    content: contentArb,
    trailers: fieldsArb,
  })
  .map((r) => ({ ...r }));
