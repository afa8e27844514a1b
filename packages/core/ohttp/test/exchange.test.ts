/** Round trips across every suite, plain and chunked, and the gateway's error behaviour. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSuite } from '@splitrelay/hpke';
import {
  ChunkedRequestDecoder,
  createGateway,
  encapsulateChunkedRequest,
  encapsulateRequest,
  OHTTP_KEY_PROBLEM_TYPE,
  OhttpError,
  type KeyConfig,
} from '../src/index.ts';
import { concat, hex, isReason, onlyOhttpErrors, readVectors, split } from './helpers.ts';

const x25519 = await createSuite({ kemId: 0x20, kdfId: 1, aeadId: 1 }).generateKeyPair();
const xwing = await createSuite({ kemId: 0x647a, kdfId: 1, aeadId: 1 }).generateKeyPair();
const symmetric = [
  { kdfId: 1, aeadId: 1 },
  { kdfId: 1, aeadId: 3 },
];
const gateway = await createGateway({
  keys: [
    { keyId: 1, kemId: 0x20, privateKey: x25519.privateKeyBytes, symmetric },
    { keyId: 2, kemId: 0x647a, privateKey: xwing.privateKeyBytes, symmetric },
  ],
});
const [cfgX, cfgW] = gateway.configs as [KeyConfig, KeyConfig];
const choices = [cfgX, cfgW].flatMap((config) => symmetric.map((s) => ({ config, symmetric: s })));

test('the gateway publishes both keys in application/ohttp-keys', () => {
  assert.equal(gateway.configs.length, 2);
  assert.deepEqual(cfgX.publicKey, x25519.publicKey.publicKey);
  assert.deepEqual(cfgW.publicKey, xwing.publicKey.publicKey);
  // 2-byte length + id (1) + KEM (2) + Npk + algorithms length (2) + 2 pairs (8), twice.
  assert.equal(gateway.encodedKeys.length, 2 + 45 + 2 + 1229);
});

test('round trip: any request and response, every KEM and AEAD', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(choices.length - 1),
      fc.uint8Array({ maxLength: 2000 }),
      fc.uint8Array({ maxLength: 2000 }),
      async (i, req, res) => {
        const choice = choices[i] as (typeof choices)[number];
        const { encapsulatedRequest, context } = await encapsulateRequest(choice.config, req, {
          symmetric: choice.symmetric,
        });
        const { request, context: gw } = await gateway.decapsulateRequest(encapsulatedRequest);
        assert.deepEqual(request, req);
        assert.deepEqual(gw.header, {
          keyId: choice.config.keyId,
          kemId: choice.config.kemId,
          ...choice.symmetric,
        });
        assert.deepEqual(context.decapsulateResponse(gw.encapsulateResponse(res)), res);
      },
    ),
    { numRuns: 40 },
  );
});

test('round trip chunked: any chunks both ways, any re-splitting of the wire', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(choices.length - 1),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 5 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      async (i, reqChunks, reqFinal, resChunks, cuts) => {
        const choice = choices[i] as (typeof choices)[number];
        const writer = await encapsulateChunkedRequest(choice.config, {
          symmetric: choice.symmetric,
        });
        const wire = [writer.header];
        for (const c of reqChunks) wire.push(await writer.sealChunk(c));
        wire.push(await writer.sealFinal(reqFinal));
        const decoder = new ChunkedRequestDecoder(gateway);
        const got: Uint8Array[] = [];
        for (const piece of split(concat(wire), cuts)) got.push(...(await decoder.push(piece)));
        const last = await decoder.end();
        assert.deepEqual(got, reqChunks);
        assert.deepEqual(last, reqFinal);

        const encoder = decoder.responseEncoder();
        const resWire = concat([
          ...resChunks.map((c) => encoder.sealChunk(c)),
          encoder.sealFinal(),
        ]);
        const resDecoder = writer.responseDecoder();
        const out = split(resWire, cuts).flatMap((p) => resDecoder.push(p));
        assert.deepEqual(out, resChunks);
        assert.equal(resDecoder.end().length, 0);
      },
    ),
    { numRuns: 30 },
  );
});

test('unknown key id, KEM or algorithms: unknown-key, with the RFC 9458 §5.3 problem body', async () => {
  const { encapsulatedRequest } = await encapsulateRequest(cfgX, new Uint8Array(10));
  for (const [at, value] of [
    [0, 9], // key id
    [2, 0x21], // KEM
    [4, 2], // KDF
    [6, 2], // AEAD
  ] as const) {
    const bad = encapsulatedRequest.slice();
    bad[at] = value;
    await assert.rejects(gateway.decapsulateRequest(bad), (err: unknown) => {
      isReason('unknown-key')(err);
      const e = err as OhttpError;
      assert.deepEqual(e.headers, { 'content-type': 'application/problem+json' });
      assert.deepEqual(JSON.parse(e.problemJson as string), {
        type: OHTTP_KEY_PROBLEM_TYPE,
        title: 'key identifier unknown',
      });
      return true;
    });
  }
});

test('after the key is found, every failure is the same decrypt-failed', async () => {
  const { encapsulatedRequest } = await encapsulateRequest(cfgX, new Uint8Array(10));
  const messages = new Set<string>();
  const fail = async (bytes: Uint8Array) =>
    assert.rejects(gateway.decapsulateRequest(bytes), (err: unknown) => {
      isReason('decrypt-failed')(err);
      messages.add((err as Error).message);
      assert.equal((err as OhttpError).problemJson, undefined);
      return true;
    });
  for (let i = 7; i < encapsulatedRequest.length; i++) {
    const bad = encapsulatedRequest.slice();
    bad[i] = (bad[i] as number) ^ 0x01;
    await fail(bad);
  }
  for (const k of [8, 38, 39, 40, 54]) await fail(encapsulatedRequest.subarray(0, k));
  assert.deepEqual([...messages], ['malformed-request: decryption failed']);
  await assert.rejects(
    gateway.decapsulateRequest(encapsulatedRequest.subarray(0, 6)),
    isReason('malformed'),
  );
});

test('responses: tampering, truncation and the wrong context fail as decrypt-failed', async () => {
  const a = await encapsulateRequest(cfgX, new Uint8Array(1));
  const b = await encapsulateRequest(cfgX, new Uint8Array(1));
  const { context } = await gateway.decapsulateRequest(a.encapsulatedRequest);
  const response = context.encapsulateResponse(new Uint8Array([1, 2, 3]));
  assert.throws(() => b.context.decapsulateResponse(response), isReason('decrypt-failed'));
  for (let k = 0; k < response.length; k++) {
    assert.throws(
      () => a.context.decapsulateResponse(response.subarray(0, k)),
      isReason('decrypt-failed'),
    );
  }
  const bad = response.slice();
  bad[20] = (bad[20] as number) ^ 0x80;
  assert.throws(() => a.context.decapsulateResponse(bad), isReason('decrypt-failed'));
});

test('chunked: truncation, reordering, an empty chunk and a missing final chunk are caught', async () => {
  const writer = await encapsulateChunkedRequest(cfgX);
  const c1 = await writer.sealChunk(new Uint8Array([1]));
  const c2 = await writer.sealChunk(new Uint8Array([2]));
  const fin = await writer.sealFinal(new Uint8Array([3]));
  const run = async (parts: Uint8Array[]) => {
    const d = new ChunkedRequestDecoder(gateway);
    for (const p of parts) await d.push(p);
    return d.end();
  };
  assert.deepEqual(await run([writer.header, c1, c2, fin]), new Uint8Array([3]));
  await assert.rejects(run([writer.header, c2, c1, fin]), isReason('decrypt-failed')); // reordered
  await assert.rejects(run([writer.header, c1, c2]), isReason('decrypt-failed')); // truncated: no final
  // A non-final chunk presented as the final one (the "final" AAD protects the end).
  await assert.rejects(
    run([writer.header, c1, Uint8Array.of(0), c2.subarray(1)]),
    isReason('decrypt-failed'),
  );
  // An empty non-final chunk, sealed by a sender that breaks the rule (§6: a decryption error).
  const suite = createSuite({ kemId: 0x20, kdfId: 1, aeadId: 1 });
  const hdr = Uint8Array.of(1, 0, 0x20, 0, 1, 0, 1);
  const info = concat([
    new TextEncoder().encode('message/bhttp chunked request'),
    Uint8Array.of(0),
    hdr,
  ]);
  const { enc, context } = await suite.setupSender(
    await suite.importPublicKey(cfgX.publicKey),
    info,
  );
  const empty = await context.seal(new Uint8Array(0));
  const rogue = [concat([hdr, enc]), concat([Uint8Array.of(empty.length), empty])];
  await assert.rejects(run(rogue), isReason('decrypt-failed'));
  // A chunk longer than the decoder's limit is refused when its length is read.
  const d = new ChunkedRequestDecoder(gateway, { maxChunkBytes: 64 });
  await d.push(writer.header);
  await assert.rejects(d.push(hex('4100')), isReason('too-large'));
});

test('random and mutated chunked and plain requests fail only with OhttpError', async () => {
  const v = readVectors<{ encapsulatedRequest: string }>('rfc9458-appendix-a.json');
  const seed = hex(v.encapsulatedRequest);
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
      async (random, edits) => {
        const mutated = seed.slice();
        for (const [at, value] of edits) mutated[at % mutated.length] = value;
        for (const bytes of [random, mutated]) {
          await onlyOhttpErrors(() => gateway.decapsulateRequest(bytes));
          await onlyOhttpErrors(async () => {
            const d = new ChunkedRequestDecoder(gateway);
            await d.push(bytes);
            await d.end();
          });
        }
      },
    ),
    { numRuns: 300 },
  );
});
