import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import {
  CapsuleError,
  CapsuleParser,
  DATAGRAM_CAPSULE_TYPE,
  DEFAULT_MAX_CAPSULE_BYTES,
  encodeCapsule,
  encodeCapsuleHeader,
  type Capsule,
  type CapsuleErrorKind,
} from '../src/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits `bytes` at the given cut points (taken modulo its length). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

function parser(maxCapsuleBytes?: number): { p: CapsuleParser; got: Capsule[] } {
  const got: Capsule[] = [];
  const p = new CapsuleParser({
    onCapsule: (type, value) => got.push({ type, value: Uint8Array.from(value) }),
    maxCapsuleBytes,
  });
  return { p, got };
}

function parseAll(chunks: readonly Uint8Array[], maxCapsuleBytes?: number): Capsule[] {
  const { p, got } = parser(maxCapsuleBytes);
  for (const c of chunks) p.push(c);
  p.end();
  return got;
}

function isKind(kind: CapsuleErrorKind) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof CapsuleError);
    assert.ok(err instanceof RelayError);
    assert.equal(err.kind, kind);
    assert.equal(err.code, 'malformed-request');
    assert.equal(err.status, 400);
    assert.equal(err.proxyError, 'http_request_error');
    return true;
  };
}

const capsuleArb: fc.Arbitrary<Capsule> = fc
  .record({
    type: fc.oneof(fc.constant(DATAGRAM_CAPSULE_TYPE), fc.nat(0x3fff_ffff), fc.maxSafeNat()),
    value: fc.uint8Array({ maxLength: 300 }),
  })
  .map(({ type, value }) => ({ type, value })); // plain objects, as the parser's sink builds

// A stream written by hand from RFC 9297 §3.2 / §3.5 (the RFC has no test vectors):
// a DATAGRAM capsule with context ID 0 and payload "hi", a zero-length capsule of the
// reserved type 0x17 (0x29 * 0 + 0x17, kept for exercising unknown-type skipping), and a
// DATAGRAM whose type and length use non-minimal encodings (allowed by RFC 9000 §16).
const handStream = hex(`
  00 03 00 68 69
  17 00
  4000 80000002 00 ff
`);
const handCapsules: Capsule[] = [
  { type: 0, value: hex('006869') },
  { type: 0x17, value: new Uint8Array(0) },
  { type: 0, value: hex('00ff') },
];
/** Offsets at which `handStream` is between capsules. */
const handBoundaries = [0, 5, 7, 15];

test('decodes the hand-written RFC 9297 stream, whole and one byte at a time', () => {
  assert.deepEqual(parseAll([handStream]), handCapsules);
  assert.deepEqual(parseAll(split(handStream, [...handStream.keys()])), handCapsules);
});

test('encodeCapsule writes the §3.2 format minimally', () => {
  assert.deepEqual(encodeCapsule(0, hex('006869')), hex('00 03 006869'));
  assert.deepEqual(encodeCapsule(0x17, new Uint8Array(0)), hex('17 00'));
  assert.deepEqual(encodeCapsule(0x4000, new Uint8Array(64)).subarray(0, 6), hex('80004000 4040'));
  assert.deepEqual(encodeCapsuleHeader(0, 3), hex('00 03'));
  assert.throws(() => encodeCapsule(-1, new Uint8Array(0)), RangeError);
});

test('every strict prefix emits only whole capsules and fails only at end()', () => {
  for (let k = 0; k < handStream.length; k++) {
    const { p, got } = parser();
    p.push(handStream.subarray(0, k));
    const whole = handBoundaries.filter((b) => b > 0 && b <= k).length;
    assert.deepEqual(got, handCapsules.slice(0, whole), `prefix ${k}`);
    assert.equal(p.atBoundary, handBoundaries.includes(k), `prefix ${k}`);
    if (handBoundaries.includes(k)) p.end();
    else assert.throws(() => p.end(), isKind('truncated'), `prefix ${k}`);
  }
});

test('a single capsule: no strict prefix emits anything', () => {
  fc.assert(
    fc.property(capsuleArb, ({ type, value }) => {
      const bytes = encodeCapsule(type, value);
      for (let k = 1; k < bytes.length; k++) {
        const { p, got } = parser();
        p.push(bytes.subarray(0, k));
        assert.equal(got.length, 0);
        assert.throws(() => p.end(), isKind('truncated'));
      }
    }),
    { numRuns: 50 },
  );
});

test('round trip: any chunking of any capsule stream gives the same capsules', () => {
  fc.assert(
    fc.property(fc.array(capsuleArb, { maxLength: 8 }), fc.array(fc.nat()), (capsules, cuts) => {
      const stream = concat(capsules.map((c) => encodeCapsule(c.type, c.value)));
      assert.deepEqual(parseAll([stream]), capsules);
      assert.deepEqual(parseAll(split(stream, cuts)), capsules);
    }),
  );
});

test('one byte at a time equals one chunk', () => {
  fc.assert(
    fc.property(fc.array(capsuleArb, { maxLength: 4 }), (capsules) => {
      const stream = concat(capsules.map((c) => encodeCapsule(c.type, c.value)));
      assert.deepEqual(parseAll(split(stream, [...stream.keys()])), parseAll([stream]));
    }),
    { numRuns: 50 },
  );
});

test('a value that arrives whole is a view into the chunk, not a copy', () => {
  const chunk = encodeCapsule(0, hex('00aabb'));
  let seen: Uint8Array | undefined;
  new CapsuleParser({ onCapsule: (_t, v) => (seen = v) }).push(chunk);
  assert.ok(seen);
  assert.equal(seen.buffer, chunk.buffer);
  assert.deepEqual(seen, hex('00aabb'));
});

test('unknown types reach the sink, which skips them', () => {
  const grease = 0x29 * 7 + 0x17;
  const stream = concat([
    encodeCapsule(grease, hex('deadbeef')),
    encodeCapsule(0, hex('0001')),
    encodeCapsule(0x1234_5678, new Uint8Array(10)),
  ]);
  const types: number[] = [];
  const datagrams: Uint8Array[] = [];
  const p = new CapsuleParser({
    onCapsule: (type, value) => {
      types.push(type);
      if (type === DATAGRAM_CAPSULE_TYPE) datagrams.push(value);
    },
  });
  p.push(stream);
  p.end();
  assert.deepEqual(types, [grease, 0, 0x1234_5678]);
  assert.deepEqual(datagrams, [hex('0001')]);
});

test('types above 2^53-1 are skipped by the parser itself', () => {
  const stream = concat([
    encodeCapsule(2n ** 62n - 1n, hex('0102030405')),
    encodeCapsule(2n ** 53n, new Uint8Array(0)),
    encodeCapsule(0, hex('00ff')),
  ]);
  const expected = [{ type: 0, value: hex('00ff') }];
  assert.deepEqual(parseAll([stream]), expected);
  assert.deepEqual(parseAll(split(stream, [...stream.keys()])), expected);
  // Still a capsule in flight: truncation is noticed.
  const { p } = parser();
  p.push(stream.subarray(0, 10));
  assert.throws(() => p.end(), isKind('truncated'));
});

test('a length above maxCapsuleBytes fails as soon as the header is read', () => {
  const { p, got } = parser(4);
  p.push(encodeCapsule(0, hex('00010203'))); // exactly the limit is fine
  assert.equal(got.length, 1);
  assert.throws(() => p.push(encodeCapsuleHeader(0, 5)), isKind('capsule-too-large'));
  // The same error again, whatever comes next.
  assert.throws(() => p.push(hex('00')), isKind('capsule-too-large'));
  assert.throws(() => p.end(), isKind('capsule-too-large'));

  const q = parser();
  assert.throws(
    () => q.p.push(encodeCapsuleHeader(0, DEFAULT_MAX_CAPSULE_BYTES + 1)),
    isKind('capsule-too-large'),
  );
  // A length beyond 2^53 is simply too large.
  const r = parser();
  assert.throws(() => r.p.push(hex('00 ffffffffffffffff')), isKind('capsule-too-large'));
  assert.throws(() => new CapsuleParser({ onCapsule: () => {}, maxCapsuleBytes: -1 }), RangeError);
});

test('an error from the sink propagates and leaves the parser failed', () => {
  const boom = new Error('sink failed');
  const p = new CapsuleParser({
    onCapsule: () => {
      throw boom;
    },
  });
  assert.throws(
    () => p.push(handStream),
    (e) => e === boom,
  );
  assert.throws(
    () => p.push(handStream),
    (e) => e === boom,
  );
  assert.throws(
    () => p.end(),
    (e) => e === boom,
  );
});

test('random bytes, in random chunks, throw nothing but CapsuleError', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.nat()),
      fc.nat(64),
      (bytes, cuts, max) => {
        const { p, got } = parser(max);
        try {
          for (const c of split(bytes, cuts)) p.push(c);
          p.end();
        } catch (err) {
          assert.ok(err instanceof CapsuleError, String(err));
        }
        for (const c of got) assert.ok(c.value.length <= max);
      },
    ),
    { numRuns: 1000 },
  );
});

test('mutated valid streams throw nothing else and never emit more than the limit', () => {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
  );
  fc.assert(
    fc.property(
      fc.array(capsuleArb, { minLength: 1, maxLength: 5 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat()),
      fc.nat(400),
      (capsules, mutations, cuts, max) => {
        const bytes = [...concat(capsules.map((c) => encodeCapsule(c.type, c.value)))];
        for (const m of mutations) {
          const at = bytes.length === 0 ? 0 : m.at % bytes.length;
          if (m.op === 'set') bytes[at] = m.byte;
          else if (m.op === 'insert') bytes.splice(at, 0, m.byte);
          else if (m.op === 'delete') bytes.splice(at, 1);
          else bytes.length = at;
        }
        const { p, got } = parser(max);
        try {
          for (const c of split(Uint8Array.from(bytes), cuts)) p.push(c);
          p.end();
        } catch (err) {
          assert.ok(err instanceof CapsuleError, String(err));
        }
        for (const c of got) assert.ok(c.value.length <= max);
      },
    ),
    { numRuns: 1000 },
  );
});
