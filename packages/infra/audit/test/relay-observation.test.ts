import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeToken, formatTokenHeader } from '@splitrelay/privacy-pass';
import { parseObservation, tokensInHeads } from '../src/index.ts';

const token = encodeToken({
  tokenType: 2,
  nonce: randomBytes(32),
  challengeDigest: randomBytes(32),
  tokenKeyId: randomBytes(32),
  authenticator: randomBytes(256),
});

/** What the preload writes: raw bytes as read, notes on lines of their own, the end line. */
const file = Buffer.concat([
  Buffer.from('\n[peer] "192.0.2.2:40000"\n'),
  randomBytes(300),
  Buffer.from(
    `\n[http1 connect] ${JSON.stringify({ method: 'CONNECT', url: 'egress-1:443', headers: { host: 'egress-1:443', 'proxy-authorization': formatTokenHeader(token) } })}\n`,
  ),
  Buffer.from('\n[peer] not json at all\n'),
  Buffer.from(
    `\n[h2 stream] ${JSON.stringify({ ':method': 'CONNECT', ':authority': 'egress-2:443', 'proxy-authorization': 'Basic nope' })}\n`,
  ),
  Buffer.from('\n[capture] 1234 bytes\n'),
]);

test('notes are read with their file offsets: peers, heads (HTTP/1.1 and h2), the end line', () => {
  const o = parseObservation(file);
  assert.equal(o.complete, true);
  assert.deepEqual(
    o.peers.map((p) => p.peer),
    ['192.0.2.2:40000'],
  );
  assert.equal(file.toString('latin1', o.peers[0]!.offset, o.peers[0]!.offset + 7), '[peer] ');
  assert.deepEqual(
    o.heads.map((h) => [h.label, h.headers[':method']]),
    [
      ['http1 connect', 'CONNECT'],
      ['h2 stream', 'CONNECT'],
    ],
  );
  assert.equal(o.heads[0]!.headers[':path'], 'egress-1:443');
});

test('the tokens a relay was handed come out whole, with nonce and authenticator; other credentials do not', () => {
  const tokens = tokensInHeads(parseObservation(file));
  assert.equal(tokens.length, 1);
  assert.deepEqual(Buffer.from(tokens[0]!.token), Buffer.from(token));
  assert.deepEqual(Buffer.from(tokens[0]!.nonce), Buffer.from(token.subarray(2, 34)));
  assert.deepEqual(Buffer.from(tokens[0]!.authenticator), Buffer.from(token.subarray(98)));
});

test('a file cut short (a crash) is read, and says it is incomplete', () => {
  const o = parseObservation(file.subarray(0, file.length - 22));
  assert.equal(o.complete, false);
  assert.equal(o.peers.length, 1);
});
