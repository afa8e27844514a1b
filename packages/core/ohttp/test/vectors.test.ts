/**
 * RFC 9458 Appendix A and the chunked draft's Appendix A, decapsulated with the example keys and
 * re-encapsulated byte for byte with the example randomness; the Binary HTTP inside decodes
 * with @splitrelay/bhttp. Sources: vectors/SOURCES.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRequest, decodeResponse } from '@splitrelay/bhttp';
import { createSuite, hkdfSha256 } from '@splitrelay/hpke';
import {
  ChunkedRequestDecoder,
  createGateway,
  decodeKeyConfig,
  encapsulateChunkedRequest,
  encapsulateRequest,
  encodeKeyConfig,
  OhttpError,
} from '../src/index.ts';
import { concat, hex, readVectors, scriptedRng, split, toHex } from './helpers.ts';

interface Example {
  gatewaySecretKey: string;
  keyConfig: string;
  request: string;
  clientSecretKey: string;
  clientPublicKey: string;
  info: string;
  response: string;
  exportedSecret: string;
  salt: string;
  prk: string;
  aeadKey: string;
  aeadNonce: string;
}
interface Plain extends Example {
  encapsulatedRequest: string;
  encapsulatedResponse: string;
  printedRequestContentLength: number;
  printedResponseContentLength: number;
}
interface Chunked extends Example {
  encapsulatedRequest: string[];
  encapsulatedResponse: string[];
  requestChunkPlaintextLengths: number[];
  responseChunkPlaintextLengths: number[];
  responseChunkNonces: string[];
}

const plain = readVectors<Plain>('rfc9458-appendix-a.json');
const chunked = readVectors<Chunked>('chunked-ohttp-example.json');

async function gatewayFor(v: Example, rng?: (n: number) => Uint8Array) {
  const config = decodeKeyConfig(hex(v.keyConfig)).value;
  const gateway = await createGateway({
    keys: [
      {
        keyId: config.keyId,
        kemId: config.kemId,
        privateKey: hex(v.gatewaySecretKey),
        symmetric: config.symmetric,
      },
    ],
    rng,
  });
  return { config, gateway };
}

test('RFC 9458 A: the key configuration decodes, and the gateway key reproduces it', async () => {
  const { value, bytesRead } = decodeKeyConfig(hex(plain.keyConfig));
  assert.equal(bytesRead, hex(plain.keyConfig).length);
  assert.equal(value.keyId, 1);
  assert.equal(value.kemId, 0x0020);
  assert.deepEqual(value.symmetric, [
    { kdfId: 1, aeadId: 1 },
    { kdfId: 1, aeadId: 3 },
  ]);
  const { gateway } = await gatewayFor(plain);
  assert.equal(
    toHex(encodeKeyConfig(gateway.configs[0] as (typeof gateway.configs)[number])),
    plain.keyConfig,
  );
});

test('RFC 9458 A: the gateway decapsulates the example request and re-creates the response', async () => {
  const nonce = hex(plain.encapsulatedResponse).subarray(0, 16);
  const { gateway } = await gatewayFor(plain, scriptedRng([nonce]));
  const { request, context } = await gateway.decapsulateRequest(hex(plain.encapsulatedRequest));
  assert.equal(toHex(request), plain.request);
  assert.equal(toHex(context.secret), plain.exportedSecret);
  // The intermediate values of §A, through the same KDF.
  assert.equal(toHex(concat([context.enc, nonce])), plain.salt);
  const prk = hkdfSha256.extract(hex(plain.salt), context.secret);
  assert.equal(toHex(prk), plain.prk);
  assert.equal(toHex(hkdfSha256.expand(prk, new TextEncoder().encode('key'), 16)), plain.aeadKey);
  assert.equal(
    toHex(hkdfSha256.expand(prk, new TextEncoder().encode('nonce'), 12)),
    plain.aeadNonce,
  );
  assert.equal(toHex(context.encapsulateResponse(hex(plain.response))), plain.encapsulatedResponse);
});

test('RFC 9458 A: the client, given the example ephemeral key, produces the example request', async () => {
  const config = decodeKeyConfig(hex(plain.keyConfig)).value;
  const { encapsulatedRequest, context } = await encapsulateRequest(config, hex(plain.request), {
    rng: scriptedRng([hex(plain.clientSecretKey)]),
  });
  assert.equal(toHex(encapsulatedRequest), plain.encapsulatedRequest);
  assert.equal(toHex(context.enc), plain.clientPublicKey);
  assert.equal(toHex(context.decapsulateResponse(hex(plain.encapsulatedResponse))), plain.response);
});

test('RFC 9458 A: the printed Content-Length values do not match the messages (known erratum)', () => {
  // 7-byte header + 32-byte enc + 25-byte request + 16-byte tag = 80, not the printed 78;
  // 16-byte nonce + 3-byte response + 16-byte tag = 35, not the printed 38.
  assert.equal(hex(plain.encapsulatedRequest).length, 80);
  assert.notEqual(hex(plain.encapsulatedRequest).length, plain.printedRequestContentLength);
  assert.equal(hex(plain.encapsulatedResponse).length, 35);
  assert.notEqual(hex(plain.encapsulatedResponse).length, plain.printedResponseContentLength);
});

test('the Binary HTTP inside both examples decodes with @splitrelay/bhttp', () => {
  for (const v of [plain, chunked]) {
    const req = decodeRequest(hex(v.request)).value;
    assert.deepEqual(
      { method: req.method, scheme: req.scheme, authority: req.authority, path: req.path },
      { method: 'GET', scheme: 'https', authority: 'example.com', path: '/' },
    );
    assert.deepEqual(req.headers, []);
    const res = decodeResponse(hex(v.response)).value;
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, []);
  }
});

test('chunked draft A: the client reproduces the chunked request from the example keys', async () => {
  const config = decodeKeyConfig(hex(chunked.keyConfig)).value;
  const writer = await encapsulateChunkedRequest(config, {
    rng: scriptedRng([hex(chunked.clientSecretKey)]),
  });
  const request = hex(chunked.request);
  const [a, b] = chunked.requestChunkPlaintextLengths as [number, number, number];
  const bytes = concat([
    writer.header,
    await writer.sealChunk(request.subarray(0, a)),
    await writer.sealChunk(request.subarray(a, a + b)),
    await writer.sealFinal(),
  ]);
  assert.equal(toHex(bytes), chunked.encapsulatedRequest.join(''));
  // ... and decodes the example chunked response with the same context.
  const decoder = writer.responseDecoder();
  const pieces = hex(chunked.encapsulatedResponse.join(''));
  const out = split(pieces, [...pieces.keys()]).flatMap((p) => decoder.push(p));
  assert.deepEqual(
    out.map((c) => c.length),
    chunked.responseChunkPlaintextLengths.slice(0, -1),
  );
  assert.equal(decoder.end().length, 0);
  assert.equal(toHex(concat(out)), chunked.response);
});

test('chunked draft A: the gateway decodes the chunked request, whole and byte by byte, and re-creates the response', async () => {
  const wire = hex(chunked.encapsulatedRequest.join(''));
  for (const pieces of [[wire], split(wire, [...wire.keys()])]) {
    const nonce = hex(chunked.encapsulatedResponse[0] as string);
    const { gateway } = await gatewayFor(chunked, scriptedRng([nonce]));
    const decoder = new ChunkedRequestDecoder(gateway);
    const chunks: Uint8Array[] = [];
    for (const p of pieces) chunks.push(...(await decoder.push(p)));
    const last = await decoder.end();
    assert.equal(decoder.complete, true);
    assert.deepEqual(
      [...chunks.map((c) => c.length), last.length],
      chunked.requestChunkPlaintextLengths,
    );
    assert.equal(toHex(concat(chunks)), chunked.request);
    const encoder = decoder.responseEncoder();
    const response = hex(chunked.response);
    const out = concat([
      encoder.sealChunk(response.subarray(0, 1)),
      encoder.sealChunk(response.subarray(1)),
      encoder.sealFinal(),
    ]);
    assert.equal(toHex(out), chunked.encapsulatedResponse.join(''));
  }
});

test('chunked draft A: exported secret, salt, PRK, key and the per-chunk nonces', async () => {
  const suite = createSuite({ kemId: 0x20, kdfId: 1, aeadId: 1 });
  const skR = await suite.importPrivateKey(hex(chunked.gatewaySecretKey));
  const enc = hex(chunked.clientPublicKey);
  const recipient = await suite.setupRecipient(skR, enc, hex(chunked.info));
  const secret = await recipient.export(
    new TextEncoder().encode('message/bhttp chunked response'),
    16,
  );
  assert.equal(toHex(secret), chunked.exportedSecret);
  const responseNonce = hex(chunked.encapsulatedResponse[0] as string);
  assert.equal(toHex(concat([enc, responseNonce])), chunked.salt);
  const prk = hkdfSha256.extract(hex(chunked.salt), secret);
  assert.equal(toHex(prk), chunked.prk);
  assert.equal(toHex(hkdfSha256.expand(prk, new TextEncoder().encode('key'), 16)), chunked.aeadKey);
  const base = hkdfSha256.expand(prk, new TextEncoder().encode('nonce'), 12);
  assert.equal(toHex(base), chunked.aeadNonce);
  // chunk_nonce = aead_nonce XOR counter: each listed nonce opens its chunk and no other.
  const chunks = chunked.encapsulatedResponse.slice(1).map((line) => hex(line).subarray(1));
  chunked.responseChunkNonces.forEach((nonce, i) => {
    const aad = i === chunks.length - 1 ? new TextEncoder().encode('final') : new Uint8Array(0);
    const pt = suite.aead.open(hex(chunked.aeadKey), hex(nonce), aad, chunks[i] as Uint8Array);
    assert.equal(pt.length, chunked.responseChunkPlaintextLengths[i]);
  });
  assert.throws(() =>
    suite.aead.open(
      hex(chunked.aeadKey),
      hex(chunked.responseChunkNonces[1] as string),
      new Uint8Array(0),
      chunks[0] as Uint8Array,
    ),
  );
});

test('chunked draft A: every strict prefix yields only true chunks and fails at end()', async () => {
  const wire = hex(chunked.encapsulatedRequest.join(''));
  const request = hex(chunked.request);
  const { gateway } = await gatewayFor(chunked);
  for (let k = 0; k < wire.length; k++) {
    const decoder = new ChunkedRequestDecoder(gateway);
    const got = concat(await decoder.push(wire.subarray(0, k)));
    assert.deepEqual(got, request.subarray(0, got.length), `prefix ${k}`);
    await assert.rejects(decoder.end(), (err: unknown) => err instanceof OhttpError, `prefix ${k}`);
    assert.equal(decoder.complete, false);
  }
  const config = decodeKeyConfig(hex(chunked.keyConfig)).value;
  const writer = await encapsulateChunkedRequest(config, {
    rng: scriptedRng([hex(chunked.clientSecretKey)]),
  });
  const responseWire = hex(chunked.encapsulatedResponse.join(''));
  for (let k = 0; k < responseWire.length; k++) {
    const decoder = writer.responseDecoder();
    const got = concat(decoder.push(responseWire.subarray(0, k)));
    assert.deepEqual(got, hex(chunked.response).subarray(0, got.length), `prefix ${k}`);
    assert.throws(
      () => decoder.end(),
      (err: unknown) => err instanceof OhttpError,
      `prefix ${k}`,
    );
  }
});
