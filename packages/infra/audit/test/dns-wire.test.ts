/**
 * The canary's DNS codec: a query as a stub resolver sends it (RFC 1035 §4.1; the classic
 * `www.example.com A` with RD), every strict prefix incomplete, round trips, and mutated
 * input that throws nothing but DnsWireError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DnsWireError,
  decodeAnswer,
  decodeQuery,
  encodeAnswer,
  encodeQuery,
} from '../src/index.ts';

const QUERY = Buffer.from(
  '12340100000100000000000003777777076578616d706c6503636f6d0000010001',
  'hex',
);

test('a real query decodes: id, RD, name, type A, class IN', () => {
  const { value, bytesRead } = decodeQuery(QUERY);
  assert.deepEqual(value, {
    id: 0x1234,
    recursionDesired: true,
    name: 'www.example.com',
    type: 1,
    class: 1,
  });
  assert.equal(bytesRead, QUERY.length);
  assert.deepEqual(
    Buffer.from(encodeQuery({ id: 0x1234, name: 'www.example.com', type: 1, class: 1 })),
    QUERY,
  );
});

test('every strict prefix of a query is incomplete', () => {
  for (let n = 0; n < QUERY.length; n++) {
    assert.throws(
      () => decodeQuery(QUERY.subarray(0, n)),
      (e: unknown) => e instanceof DnsWireError && e.kind === 'incomplete',
      `prefix ${n}`,
    );
  }
});

test('responses, other opcodes, no question and compression pointers in the question are invalid', () => {
  const response = Buffer.from(QUERY);
  response[2] = 0x81;
  const opcode = Buffer.from(QUERY);
  opcode[2] = 0x11;
  const noQuestion = Buffer.from(QUERY);
  noQuestion[5] = 0;
  const pointer = Buffer.concat([QUERY.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  for (const bad of [response, opcode, noQuestion, pointer])
    assert.throws(
      () => decodeQuery(bad),
      (e: unknown) => e instanceof DnsWireError && e.kind === 'invalid',
    );
});

const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));

test('queries and answers round-trip', () => {
  fc.assert(
    fc.property(name, fc.integer({ min: 0, max: 65535 }), fc.constantFrom(1, 28), (n, id, type) => {
      const q = decodeQuery(encodeQuery({ id, name: n, type, class: 1 })).value;
      assert.deepEqual(q, { id, recursionDesired: true, name: n, type, class: 1 });
      const addresses =
        type === 1 ? [Uint8Array.of(203, 0, 113, 7)] : [new Uint8Array(16).fill(0x20)];
      const a = decodeAnswer(encodeAnswer({ question: q, rcode: 0, addresses })).value;
      assert.deepEqual(a, { id, rcode: 0, addresses });
      const nx = decodeAnswer(encodeAnswer({ question: q, rcode: 3, addresses: [] })).value;
      assert.deepEqual(nx, { id, rcode: 3, addresses: [] });
    }),
  );
});

test('mutated and random input throws only DnsWireError', () => {
  const answer = encodeAnswer({
    question: decodeQuery(QUERY).value,
    rcode: 0,
    addresses: [Uint8Array.of(1, 2, 3, 4)],
  });
  const typed = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof DnsWireError, String(e));
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), fc.nat(255), (random, at, byte) => {
      typed(() => decodeQuery(random));
      typed(() => decodeAnswer(random));
      for (const base of [QUERY, Buffer.from(answer)]) {
        const m = Buffer.from(base);
        m[at % m.length] = byte;
        typed(() => decodeQuery(m));
        typed(() => decodeAnswer(m));
      }
    }),
  );
});
