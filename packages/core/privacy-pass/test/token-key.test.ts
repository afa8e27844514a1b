/**
 * RFC 9578 §6.5 token keys: the PSS SPKI form is the only one admitted, byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { generateIssuerKeyPem, importTokenKey, tokenKeyId } from '../src/index.ts';
import {
  hex,
  onlyPrivacyPassErrors,
  readVectors,
  rsaPssKeyPair,
  throwsReason,
  toHex,
} from './helpers.ts';

const [vector] = readVectors<Array<{ pkS: string }>>('rfc9578-a2-blind-rsa.json');
const pkS = hex(vector!.pkS);

test('the RFC key imports; id is SHA-256 of the SPKI, truncatedId its last byte', () => {
  const key = importTokenKey(pkS);
  assert.equal(toHex(key.id), 'ca572f8982a9ca248a3056186322d93ca147266121ddeb5632c07f1f71cd2708');
  assert.deepEqual(key.id, tokenKeyId(pkS));
  assert.equal(key.truncatedId, 0x08);
  assert.deepEqual(key.spki, pkS);
  assert.equal(key.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(key.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(Object.isFrozen(key));
});

test('the SPKI is copied: changing the input later changes nothing', () => {
  const input = pkS.slice();
  const key = importTokenKey(input);
  input.fill(0);
  assert.deepEqual(key.spki, pkS);
});

test('the OpenSSL spelling (NULL hash parameters) is read too, under its own id', () => {
  const { publicKey } = rsaPssKeyPair();
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  assert.equal(toHex(spki.subarray(0, 6)), '308201563041');
  const key = importTokenKey(spki);
  assert.equal(toHex(key.id), createHash('sha256').update(spki).digest('hex'));
});

test('generated token keys use the RFC spelling', () => {
  const { tokenKey } = generateIssuerKeyPem();
  assert.equal(toHex(tokenKey.subarray(0, 67)), toHex(pkS.subarray(0, 67)));
  assert.equal(tokenKey.length, 342);
  importTokenKey(tokenKey);
});

test('bad keys', () => {
  const rsaEncryption = new Uint8Array(
    // The RFC key's own modulus under the rsaEncryption OID.
    createPublicKey({
      key: Buffer.from(pkS.subarray(pkS.length - 270)),
      format: 'der',
      type: 'pkcs1',
    }).export({
      type: 'spki',
      format: 'der',
    }),
  );
  const plainRsa = new Uint8Array(
    generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'der',
    }),
  );
  const pss = (bits: number, hash = 'sha384', saltLength = 48): Uint8Array =>
    new Uint8Array(
      rsaPssKeyPair(bits, hash, saltLength).publicKey.export({ type: 'spki', format: 'der' }),
    );
  const ec = new Uint8Array(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'der',
    }),
  );
  const withTrailer = new Uint8Array([...pkS, 0]);
  const longerLength = pkS.slice();
  longerLength[3] = 0x53;
  const lowExponentBit = pkS.slice();
  lowExponentBit[pkS.length - 1] = 0x00; // e = 65536: even
  const evenModulus = pkS.slice();
  evenModulus[pkS.length - 6]! &= 0xfe; // last byte of n, before 02 03 01 00 01
  const shortModulus = pkS.slice();
  shortModulus[pkS.length - 5 - 256] = 0x00; // top byte of n zeroed: 2040 bits

  for (const [name, spki] of [
    ['empty', new Uint8Array(0)],
    ['rsaEncryption OID', rsaEncryption],
    ['plain RSA SPKI', plainRsa],
    ['PSS 1024 bits', pss(1024)],
    ['PSS 3072 bits', pss(3072)],
    ['PSS with SHA-256', pss(2048, 'sha256', 32)],
    ['PSS with salt 32', pss(2048, 'sha384', 32)],
    ['EC key', ec],
    ['trailing byte', withTrailer],
    ['length past the end', longerLength],
    ['even exponent', lowExponentBit],
    ['short modulus', shortModulus],
    ['even modulus', evenModulus],
    ['prefix', pkS.subarray(0, 100)],
  ] as const) {
    assert.throws(
      () => importTokenKey(spki),
      { name: 'PrivacyPassError', reason: 'bad-key' },
      name,
    );
  }
});

test('every strict prefix of the RFC key is bad-key', () => {
  for (let n = 0; n < pkS.length; n++)
    throwsReason(() => importTokenKey(pkS.subarray(0, n)), 'bad-key');
});

test('random bytes, and random edits of the RFC key, only ever fail with bad-key', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      throwsReason(() => importTokenKey(bytes), 'bad-key');
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const edited = pkS.slice();
      const i = at % 90; // the envelope and the first bytes of the key
      edited[i]! ^= x;
      onlyPrivacyPassErrors(() => importTokenKey(edited));
    }),
    { numRuns: 1000 },
  );
});
