import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSuite, HpkeError, KEM_X25519, KEM_XWING } from '../src/index.ts';

const suites = [
  createSuite({ kemId: KEM_X25519, kdfId: 1, aeadId: 1 }),
  createSuite({ kemId: KEM_X25519, kdfId: 1, aeadId: 3 }),
  createSuite({ kemId: KEM_XWING, kdfId: 1, aeadId: 1 }),
];
const pairs = await Promise.all(suites.map((s) => s.generateKeyPair()));

test('round trip: any info, aad and messages seal and open in order, for every suite', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(suites.length - 1),
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 16 }),
      fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
      async (i, info, aad, messages) => {
        const suite = suites[i] as (typeof suites)[number];
        const pair = pairs[i] as (typeof pairs)[number];
        const { enc, context } = await suite.setupSender(pair.publicKey, info);
        const recipient = await suite.setupRecipient(pair.privateKey, enc, info);
        for (const m of messages)
          assert.deepEqual(await recipient.open(await context.seal(m, aad), aad), m);
      },
    ),
    { numRuns: 60 },
  );
});

test('random enc and ciphertext bytes only ever fail as HpkeError', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(suites.length - 1),
      fc.uint8Array({ maxLength: 1200 }),
      fc.uint8Array({ maxLength: 64 }),
      async (i, enc, ct) => {
        const suite = suites[i] as (typeof suites)[number];
        const pair = pairs[i] as (typeof pairs)[number];
        try {
          const recipient = await suite.setupRecipient(pair.privateKey, enc, new Uint8Array(0));
          await recipient.open(ct);
          assert.fail('random bytes opened');
        } catch (err) {
          assert.ok(err instanceof HpkeError, String(err));
        }
      },
    ),
    { numRuns: 100 },
  );
});
