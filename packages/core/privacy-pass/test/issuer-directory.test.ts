/**
 * RFC 9578 §4 issuer directory: schema, the RFC's example shape, key selection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ISSUER_DIRECTORY_PATH,
  MEDIA_TYPES,
  base64url,
  base64urlPadded,
  buildIssuerDirectory,
  issuerDirectorySchema,
  selectTokenKey,
} from '../src/index.ts';
import { hex, readVectors } from './helpers.ts';

const [vector] = readVectors<Array<{ pkS: string }>>('rfc9578-a2-blind-rsa.json');
const pkS = hex(vector!.pkS);

test('well-known path and media types (RFC 9578 §4, §8)', () => {
  assert.equal(ISSUER_DIRECTORY_PATH, '/.well-known/private-token-issuer-directory');
  assert.equal(MEDIA_TYPES.directory, 'application/private-token-issuer-directory');
  assert.equal(MEDIA_TYPES.request, 'application/private-token-request');
  assert.equal(MEDIA_TYPES.response, 'application/private-token-response');
});

test('the RFC 9578 §4 example shape parses, unknown fields tolerated and kept', () => {
  const parsed = issuerDirectorySchema.parse({
    'issuer-request-uri': 'https://issuer.example.net/request',
    'token-keys': [
      { 'token-type': 2, 'token-key': base64urlPadded(pkS), 'not-before': 1686913811 },
      { 'token-type': 2, 'token-key': base64url(pkS), 'future-field': true },
      { 'token-type': 1, 'token-key': 'AQID' },
    ],
    'issuer-extension': { anything: 1 },
  });
  assert.equal(parsed['token-keys'].length, 3);
  assert.equal((parsed as Record<string, unknown>)['issuer-extension'] !== undefined, true);
});

test('schema refusals', () => {
  const good = {
    'issuer-request-uri': '/request',
    'token-keys': [{ 'token-type': 2, 'token-key': 'AQID' }],
  };
  assert.equal(issuerDirectorySchema.safeParse(good).success, true);
  for (const bad of [
    {},
    { 'token-keys': [] },
    { ...good, 'issuer-request-uri': 7 },
    { ...good, 'token-keys': {} },
    { ...good, 'token-keys': [{ 'token-type': '2', 'token-key': 'AQID' }] },
    { ...good, 'token-keys': [{ 'token-type': 2.5, 'token-key': 'AQID' }] },
    { ...good, 'token-keys': [{ 'token-type': 2, 'token-key': 'AQ+D' }] },
    { ...good, 'token-keys': [{ 'token-type': 2, 'token-key': '' }] },
    { ...good, 'token-keys': [{ 'token-type': 2 }] },
    { ...good, 'token-keys': [{ 'token-type': 2, 'token-key': 'AQID', 'not-before': -1 }] },
    { ...good, 'token-keys': [{ 'token-type': 2, 'token-key': 'AQID', 'not-before': '1' }] },
    { ...good, 'token-keys': [{ 'token-type': 2, 'token-key': 'A'.repeat(5000) }] },
    null,
    'x',
  ]) {
    assert.equal(
      issuerDirectorySchema.safeParse(bad).success,
      false,
      JSON.stringify(bad)?.slice(0, 80),
    );
  }
});

test('buildIssuerDirectory writes padded keys in preference order; selectTokenKey honours not-before', () => {
  const other = pkS.slice();
  other[other.length - 10]! ^= 1;
  const dir = buildIssuerDirectory('https://issuer.splitrelay.test/token-request', [
    { tokenKey: other, notBefore: 2000 },
    { tokenKey: pkS },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(dir)), {
    'issuer-request-uri': 'https://issuer.splitrelay.test/token-request',
    'token-keys': [
      { 'token-type': 2, 'token-key': base64urlPadded(other), 'not-before': 2000 },
      { 'token-type': 2, 'token-key': base64urlPadded(pkS) },
    ],
  });
  assert.deepEqual(selectTokenKey(dir, 1999), pkS);
  assert.deepEqual(selectTokenKey(dir, 2000), other);
  assert.equal(selectTokenKey(dir, 2000, 1), undefined);
  assert.equal(selectTokenKey({ ...dir, 'token-keys': [] }, 0), undefined);
});
