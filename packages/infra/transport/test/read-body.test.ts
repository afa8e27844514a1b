import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { RelayError } from '@splitrelay/errors';
import { declaredLength, readBody } from '../src/index.ts';

const code = (expected: string) => (err: unknown) =>
  err instanceof RelayError && err.code === expected;

test('a body within the bound is read whole, in any chunking', async () => {
  const body = Readable.from([Buffer.from('ab'), Buffer.from('c'), Buffer.from('def')]);
  assert.equal((await readBody(body, { maxBytes: 6, timeoutMs: 1000 })).toString(), 'abcdef');
});

test('a declared length over the bound is refused before reading', async () => {
  const body = new PassThrough();
  await assert.rejects(
    readBody(body, { maxBytes: 10, timeoutMs: 1000, declaredLength: 11 }),
    code('content-too-large'),
  );
  assert.equal(body.listenerCount('data'), 0, 'not a byte read');
});

test('a body that grows past the bound is refused and destroyed', async () => {
  const body = new PassThrough();
  const reading = readBody(body, { maxBytes: 4, timeoutMs: 1000 });
  body.write('abc');
  body.write('de');
  await assert.rejects(reading, code('content-too-large'));
  assert.ok(body.isPaused(), 'left for the caller to answer on and close');
});

test('a body that never ends is refused at the deadline', async () => {
  const body = new PassThrough();
  body.write('a');
  await assert.rejects(readBody(body, { maxBytes: 100, timeoutMs: 50 }), code('request-timeout'));
  assert.equal(body.listenerCount('data'), 0);
});

test('a body cut off by its peer is refused', async () => {
  const body = new PassThrough();
  const reading = readBody(body, { maxBytes: 100, timeoutMs: 1000 });
  body.write('a');
  body.destroy();
  await assert.rejects(reading, code('connection-terminated'));
});

test('Content-Length values', () => {
  assert.equal(declaredLength('12'), 12);
  assert.equal(declaredLength(['7']), 7);
  for (const bad of [undefined, '', '-1', '1e3', ' 1', '0x10', '1'.repeat(16)])
    assert.equal(declaredLength(bad), undefined, String(bad));
});
