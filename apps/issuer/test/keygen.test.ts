/** splitrelay-issuer-keygen: a 0600 PKCS#8 key the issuer loads, never written over a file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { base64url, fromBase64url, loadIssuerKey, tokenKeyId } from '@splitrelay/privacy-pass';

const exec = promisify(execFile);
const cli = fileURLToPath(new URL('../src/keygen.ts', import.meta.url));

test('writes a key the issuer loads and prints its token key and id', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keygen-'));
  try {
    const out = join(dir, 'token.key');
    const { stdout } = await exec(process.execPath, [cli, '--out', out, '--json']);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const key = await loadIssuerKey(await readFile(out, 'utf8'));
    assert.equal(printed.tokenKey, base64url(key.tokenKey.spki));
    assert.equal(
      printed.keyId,
      Buffer.from(tokenKeyId(fromBase64url(String(printed.tokenKey)))).toString('hex'),
    );
    assert.equal(printed.truncatedKeyId, key.tokenKey.truncatedId);
    assert.equal(printed.tokenType, 2);

    const text = await exec(process.execPath, [cli, '--out', join(dir, 'second.key')]);
    assert.match(text.stdout, /^token-key: [A-Za-z0-9_-]+$/m);
    assert.match(text.stdout, /^key-id: [0-9a-f]{64}$/m);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('never writes over an existing file, and refuses bad flags', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keygen-'));
  try {
    const out = join(dir, 'token.key');
    await writeFile(out, 'precious');
    for (const args of [['--out', out], [], ['--nope']]) {
      await assert.rejects(
        exec(process.execPath, [cli, ...args]),
        (err: { code?: number; stderr?: string }) => {
          assert.equal(err.code, 2);
          assert.match(err.stderr ?? '', /usage: splitrelay-issuer-keygen/);
          return true;
        },
      );
    }
    assert.equal(await readFile(out, 'utf8'), 'precious');
  } finally {
    await rm(dir, { recursive: true });
  }
});
