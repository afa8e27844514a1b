import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeToken, formatTokenHeader } from '@splitrelay/privacy-pass';
import { CAPTURE_MAGIC, encodeRecord } from '@splitrelay/capture';
import { parseObservation, tokensInHeads } from '../src/index.ts';

const token = encodeToken({
  tokenType: 2,
  nonce: randomBytes(32),
  challengeDigest: randomBytes(32),
  tokenKeyId: randomBytes(32),
  authenticator: randomBytes(256),
});

/** A capture as the preload writes it: the magic, then length-framed records. */
const records = [
  encodeRecord({
    type: 'peer',
    transport: 'tcp',
    direction: 'in',
    remoteAddress: '192.0.2.2',
    remotePort: 40000,
  }),
  encodeRecord({ type: 'stream', stream: 1, source: 'TLSSocket' }),
  encodeRecord({ type: 'read', stream: 1, bytes: randomBytes(300) }),
  encodeRecord({
    type: 'head',
    kind: 'http1-connect',
    stream: 1,
    method: 'CONNECT',
    target: 'egress-1:443',
    headers: [
      ['host', 'egress-1:443'],
      ['proxy-authorization', formatTokenHeader(token)],
    ],
  }),
  // A connection the relay opened itself is not a peer that reached it.
  encodeRecord({
    type: 'peer',
    transport: 'tcp',
    direction: 'out',
    remoteAddress: '192.0.2.9',
    remotePort: 443,
  }),
  encodeRecord({
    type: 'head',
    kind: 'h2-request',
    headers: [
      [':method', 'CONNECT'],
      [':authority', 'egress-2:443'],
      ['proxy-authorization', 'Basic nope'],
    ],
  }),
];
const end = encodeRecord({ type: 'end', recordedBytes: 300, droppedBytes: 0 });
const file = Buffer.concat([CAPTURE_MAGIC, ...records, end]);

test('records are read with their file offsets: peers that came in, heads (HTTP/1.1 and h2), the end', () => {
  const o = parseObservation(file);
  assert.equal(o.complete, true);
  assert.deepEqual(
    o.peers.map((p) => p.peer),
    ['192.0.2.2:40000'],
  );
  assert.equal(o.peers[0]!.offset, CAPTURE_MAGIC.length, "the offset is the record's in the file");
  assert.deepEqual(
    o.heads.map((h) => [h.label, h.headers[':method']]),
    [
      ['http1-connect', 'CONNECT'],
      ['h2-request', 'CONNECT'],
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
  const o = parseObservation(file.subarray(0, file.length - end.length - 3));
  assert.equal(o.complete, false);
  assert.equal(o.peers.length, 1);
});
