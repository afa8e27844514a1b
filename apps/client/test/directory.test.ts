/**
 * The client verifies the directory itself: whatever the ingress (or a file) hands it,
 * tampered, expired and foreign-signed entries are refused and never used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { generateOperatorKey, signEntry } from '@splitrelay/directory';
import { ClientDirectory } from '../src/directory.ts';

const operator = generateOperatorKey();
const stranger = generateOperatorKey();
const pin = Buffer.alloc(32, 9).toString('base64');
const now = Math.floor(Date.now() / 1000);

const entry = (id: string, notAfter: number, kid: string) => ({
  v: 1 as const,
  id,
  operator: kid,
  endpoint: '127.0.3.1:8443',
  region: 'eu',
  tlsPins: [pin],
  notBefore: now - 60,
  notAfter,
  version: 1,
});

test('only genuine, current entries are kept', () => {
  const good = signEntry(
    entry('egress-1', now + 3600, operator.kid),
    createPrivateKey(operator.privateKeyPem),
    operator.kid,
  );
  const tamperedPayload = Buffer.from(
    JSON.stringify({ ...entry('egress-1', now + 3600, operator.kid), endpoint: '127.0.9.9:1' }),
  ).toString('base64url');
  const tampered = { ...good, payload: tamperedPayload };
  const expired = signEntry(
    entry('egress-2', now - 1, operator.kid),
    createPrivateKey(operator.privateKeyPem),
    operator.kid,
  );
  const foreign = signEntry(
    entry('egress-3', now + 3600, stranger.kid),
    createPrivateKey(stranger.privateKeyPem),
    stranger.kid,
  );

  const directory = new ClientDirectory({ [operator.kid]: operator.publicKeyPem });
  assert.equal(
    directory.apply({ v: 1, entries: [tampered, expired, foreign] }),
    3,
    'three refused',
  );
  assert.equal(directory.entries().size, 0);
  assert.equal(directory.apply({ v: 1, entries: [good] }), 0);
  assert.deepEqual([...directory.entries().keys()], ['egress-1']);
  assert.equal(directory.entries().get('egress-1')?.endpoint, '127.0.3.1:8443');
  assert.equal(directory.apply('not a directory'), 0);
  assert.equal(directory.entries().size, 1, 'garbage changes nothing');
});
