/**
 * The capture file format: round trips of every record kind, every strict prefix of a record
 * is incomplete, a file cut anywhere keeps the records before the cut, and mutated or random
 * files throw nothing but CaptureFileError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CAPTURE_MAGIC,
  CaptureFileError,
  HEAD_KINDS,
  MAX_RECORD_BYTES,
  decodeRecord,
  encodeRecord,
  parseCaptureFile,
  type CaptureRecord,
} from '../src/index.ts';

const port = fc.integer({ min: 0, max: 65_535 });
const count = fc.nat();
const str = fc.string({ unit: 'binary', maxLength: 40 });
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** A plain object without the keys whose value is undefined, as JSON gives it back. */
const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const plain = <T extends object>(o: T): T => ({ ...o });

const record: fc.Arbitrary<CaptureRecord> = fc.oneof(
  fc
    .record({
      type: fc.constant('read' as const),
      stream: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      bytes: fc.uint8Array({ maxLength: 300 }),
    })
    .map(plain),
  fc
    .record({
      type: fc.constant('stream' as const),
      stream: count,
      source: str,
      remoteAddress: opt(str),
      remotePort: opt(port),
    })
    .map(defined),
  fc
    .record({
      type: fc.constant('head' as const),
      kind: fc.constantFrom(...HEAD_KINDS),
      stream: opt(count),
      method: opt(str),
      target: opt(str),
      status: opt(fc.integer({ min: 100, max: 599 })),
      headers: fc.array(fc.tuple(str, str), { maxLength: 6 }),
    })
    .map(defined),
  fc
    .record({
      type: fc.constant('peer' as const),
      transport: fc.constantFrom('tcp' as const, 'udp' as const),
      direction: fc.constantFrom('in' as const, 'out' as const),
      remoteAddress: str,
      remotePort: port,
      localAddress: opt(str),
      localPort: opt(port),
    })
    .map(defined),
  fc
    .record({ type: fc.constant('end' as const), recordedBytes: count, droppedBytes: count })
    .map(plain),
);

const file = (records: readonly CaptureRecord[]): Buffer =>
  Buffer.concat([CAPTURE_MAGIC, ...records.map(encodeRecord)]);

test('every record kind round-trips through encode and decode', () => {
  fc.assert(
    fc.property(record, (r) => {
      const bytes = encodeRecord(r);
      const { value, bytesRead } = decodeRecord(bytes);
      assert.equal(bytesRead, bytes.length);
      assert.deepEqual(value, r);
    }),
    { numRuns: 500 },
  );
});

test('a read keeps its exact bytes, and a read spelling a record is still a read', () => {
  const bytes = Buffer.from('\n[peer] "203.0.113.9:1"\n\x03\x00\x00\x00\x02{}');
  const { value } = decodeRecord(encodeRecord({ type: 'read', stream: 7, bytes }));
  assert.deepEqual(value, { type: 'read', stream: 7, bytes: Uint8Array.from(bytes) });
});

test('every strict prefix of a record is incomplete', () => {
  fc.assert(
    fc.property(record, (r) => {
      const bytes = encodeRecord(r);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(
          () => decodeRecord(bytes.subarray(0, n)),
          (err: unknown) => err instanceof CaptureFileError && err.kind === 'incomplete',
        );
      }
    }),
    { numRuns: 100 },
  );
});

test('a file cut anywhere keeps exactly the whole records before the cut', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 8 }), fc.nat(), (records, at) => {
      const bytes = file(records);
      const cutAt = CAPTURE_MAGIC.length + (at % (bytes.length - CAPTURE_MAGIC.length + 1));
      const parsed = parseCaptureFile(bytes.subarray(0, cutAt));
      const ends: number[] = [];
      let end = CAPTURE_MAGIC.length;
      for (const r of records) ends.push((end += encodeRecord(r).length));
      const whole = ends.filter((e) => e <= cutAt).length;
      assert.deepEqual(parsed.records, records.slice(0, whole));
      assert.equal(parsed.cut, !ends.includes(cutAt) && cutAt !== CAPTURE_MAGIC.length);
    }),
    { numRuns: 300 },
  );
});

test('the magic: a prefix of it is incomplete, anything else invalid', () => {
  for (let n = 0; n < CAPTURE_MAGIC.length; n++)
    assert.throws(
      () => parseCaptureFile(CAPTURE_MAGIC.subarray(0, n)),
      (err: unknown) => err instanceof CaptureFileError && err.kind === 'incomplete',
    );
  assert.throws(
    () => parseCaptureFile(Buffer.from('\n[capture] 0 bytes\n')),
    (err: unknown) => err instanceof CaptureFileError && err.kind === 'invalid',
  );
});

test('a declared length over the limit is too-large before any body is read', () => {
  const header = Buffer.alloc(5);
  header[0] = 1;
  header.writeUInt32BE(MAX_RECORD_BYTES + 1, 1);
  assert.throws(
    () => decodeRecord(header),
    (err: unknown) => err instanceof CaptureFileError && err.kind === 'too-large',
  );
});

test('bad kinds, bad JSON and bad fields are invalid, at the offset in the file', () => {
  const json = (kind: number, text: string): Buffer => {
    const body = Buffer.from(text);
    const out = Buffer.alloc(5 + body.length);
    out[0] = kind;
    out.writeUInt32BE(body.length, 1);
    body.copy(out, 5);
    return out;
  };
  const good = encodeRecord({ type: 'end', recordedBytes: 0, droppedBytes: 0 });
  for (const bad of [
    json(0, '{}'),
    json(9, '{}'),
    json(3, 'not json'),
    json(3, '{"kind":"h3-request","headers":[]}'),
    json(3, '{"kind":"h2-request","headers":[["a"]]}'),
    json(4, '{"transport":"sctp","direction":"in","remoteAddress":"a","remotePort":1}'),
    json(4, '{"transport":"tcp","direction":"in","remoteAddress":"a","remotePort":70000}'),
    json(2, '{"stream":-1,"source":"x"}'),
    json(5, '[]'),
    Buffer.from([1, 0, 0, 0, 3, 0, 0, 0]),
    // Not UTF-8.
    Buffer.from([3, 0, 0, 0, 3, 0xff, 0xfe, 0xfd]),
  ]) {
    assert.throws(
      () => parseCaptureFile(Buffer.concat([CAPTURE_MAGIC, good, bad])),
      (err: unknown) =>
        err instanceof CaptureFileError &&
        err.kind === 'invalid' &&
        err.offset >= CAPTURE_MAGIC.length + good.length,
    );
  }
});

test('unknown fields do not come through', () => {
  const body = Buffer.from('{"recordedBytes":1,"droppedBytes":2,"extra":"x"}');
  const bytes = Buffer.concat([Buffer.from([5, 0, 0, 0, body.length]), body]);
  assert.deepEqual(decodeRecord(bytes).value, { type: 'end', recordedBytes: 1, droppedBytes: 2 });
});

test('mutated and random files throw nothing but CaptureFileError', () => {
  const onlyTyped = (bytes: Uint8Array): void => {
    try {
      parseCaptureFile(bytes);
    } catch (err) {
      if (!(err instanceof CaptureFileError)) throw err;
    }
  };
  fc.assert(
    fc.property(
      fc.array(record, { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      (records, flips) => {
        const bytes = file(records);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        onlyTyped(bytes);
      },
    ),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (tail) =>
      onlyTyped(Buffer.concat([CAPTURE_MAGIC, tail])),
    ),
    { numRuns: 1000 },
  );
});
