/**
 * The operator's rotation steps through the real CLIs: splitrelay-ohttp-keys edits the ring,
 * `export` writes what sign-entry publishes, and the signed entry carries exactly the ring's
 * published keys, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOperatorKey, ohttpKeyIds, verifyDirectory } from '@splitrelay/directory';
import { selfSigned } from '@splitrelay/devcerts';
import { decodeKeys } from '@splitrelay/ohttp';
import { readKeyRing } from '@splitrelay/ohttp-gateway';

const exec = promisify(execFile);
const keysCli = fileURLToPath(new URL('../src/ohttp-keys.ts', import.meta.url));
const signCli = fileURLToPath(new URL('../src/sign-entry.ts', import.meta.url));

test('add, export, sign, promote, retire, prune: the entry follows the ring', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ohttp-keys-'));
  try {
    const ring = join(dir, 'keys.json');
    const exported = join(dir, 'ohttp-keys.bin');
    const keys = (...args: string[]) => exec(process.execPath, [keysCli, ...args, '--ring', ring]);
    const op = generateOperatorKey();
    await writeFile(join(dir, 'op.key'), op.privateKeyPem);
    const cert = await selfSigned({ commonName: 'e', usage: 'server' });
    await writeFile(join(dir, 'e.crt'), cert.certPem);
    const out = join(dir, 'directory.json');
    let version = 0;
    const signAndRead = async (): Promise<number[]> => {
      await keys('export', '--out', exported);
      await exec(process.execPath, [
        signCli,
        ...['--key', join(dir, 'op.key'), '--id', 'egress-1', '--endpoint', '127.0.3.1:8443'],
        ...['--region', 'eu', '--cert', join(dir, 'e.crt'), '--days', '7', '--out', out],
        ...['--version', String(++version), '--ohttp-keys', exported],
      ]);
      const verified = verifyDirectory(
        JSON.parse(await readFile(out, 'utf8')),
        { [op.kid]: op.publicKeyPem },
        Math.floor(Date.now() / 1000),
      );
      const entry = verified.entries.get('egress-1');
      assert.ok(entry?.ohttpKeys, 'the entry publishes keys');
      // Exactly the exported bytes, which decode as the ring's configurations.
      assert.deepEqual(Buffer.from(entry.ohttpKeys, 'base64url'), await readFile(exported));
      assert.equal(decodeKeys(new Uint8Array(await readFile(exported))).skipped, 0);
      return ohttpKeyIds(entry.ohttpKeys);
    };

    await keys('add', '--kem', 'x25519');
    assert.deepEqual(await signAndRead(), [0]);
    // 1. The next key is published behind the current one.
    const added = await keys('add', '--kem', 'x-wing', '--aead', 'chacha20-poly1305');
    assert.match(added.stdout, /added key 1 \(x-wing\)/);
    assert.deepEqual(await signAndRead(), [0, 1]);
    // 2. Promoted: clients prefer it.
    await keys('promote', '--key-id', '1');
    assert.deepEqual(await signAndRead(), [1, 0]);
    // 3. The old key retires: unpublished, still in the ring with its window.
    await keys('retire', '--key-id', '0', '--in-seconds', '3600');
    assert.deepEqual(await signAndRead(), [1]);
    assert.equal(readKeyRing(ring).keys.length, 2);
    assert.match((await keys('list')).stdout, /^0\tx25519\t.*retiring until/m);
    // 4. Its window has not ended: prune keeps it; ended, it goes.
    await keys('prune');
    assert.equal(readKeyRing(ring).keys.length, 2);
    await keys('retire', '--key-id', '0', '--at', '1');
    await keys('prune');
    assert.deepEqual(
      readKeyRing(ring).keys.map((k) => k.keyId),
      [1],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mistakes exit 2 with the reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ohttp-keys-'));
  try {
    const ring = join(dir, 'keys.json');
    const run = (...args: string[]) =>
      exec(process.execPath, [keysCli, ...args]).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
    for (const [args, reason] of [
      [['add', '--ring', ring, '--kem', 'p-256'], /--kem must be one of/],
      [['promote', '--ring', ring, '--key-id', '3'], /no key 3/],
      [['frobnicate', '--ring', ring], /unknown command/],
      [['add', '--kem', 'x25519'], /missing --ring/],
      [['retire', '--ring', ring, '--key-id', '300'], /--key-id must be/],
    ] as const) {
      const result = await run(...args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, reason);
    }
    await writeFile(join(dir, 'junk.bin'), Buffer.from([0, 3, 1, 2]));
    const signed = await exec(process.execPath, [
      signCli,
      ...['--key', 'x', '--id', 'e', '--endpoint', 'a:1', '--region', 'eu', '--cert', 'c'],
      ...['--days', '1', '--out', join(dir, 'd.json'), '--ohttp-keys', join(dir, 'junk.bin')],
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(signed.code, 2);
    assert.match(signed.stderr, /not application\/ohttp-keys/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
