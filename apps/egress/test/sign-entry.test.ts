import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOperatorKey, spkiPin, verifyDirectory } from '@splitrelay/directory';
import { selfSigned } from '@splitrelay/devcerts';

const exec = promisify(execFile);
const cli = fileURLToPath(new URL('../src/sign-entry.ts', import.meta.url));

test('signs an entry that verifies, replaces only its own id, and pins every --cert', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sign-'));
  try {
    const op = generateOperatorKey();
    await writeFile(join(dir, 'op.key'), op.privateKeyPem);
    const a = await selfSigned({ commonName: 'a', usage: 'server' });
    const b = await selfSigned({ commonName: 'b', usage: 'server' });
    await writeFile(join(dir, 'a.crt'), a.certPem);
    await writeFile(join(dir, 'b.crt'), b.certPem);
    const out = join(dir, 'directory.json');
    const sign = (id: string, certs: string[], version: number) =>
      exec(process.execPath, [
        cli,
        '--key',
        join(dir, 'op.key'),
        '--id',
        id,
        '--endpoint',
        '127.0.3.1:8443',
        '--region',
        'eu',
        ...certs.flatMap((c) => ['--cert', join(dir, c)]),
        '--days',
        '7',
        '--out',
        out,
        '--version',
        String(version),
      ]);
    await sign('egress-1', ['a.crt'], 1);
    await sign('egress-2', ['a.crt'], 1);
    await sign('egress-1', ['a.crt', 'b.crt'], 2);
    const file = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(file.entries.length, 2);
    const verified = verifyDirectory(
      file,
      { [op.kid]: op.publicKeyPem },
      Math.floor(Date.now() / 1000),
    );
    assert.deepEqual(verified.rejected, []);
    assert.deepEqual(verified.entries.get('egress-1')?.tlsPins, [
      spkiPin(a.certPem),
      spkiPin(b.certPem),
    ]);
    assert.equal(verified.entries.get('egress-1')?.version, 2);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('refuses bad flags with a usage message', async () => {
  await assert.rejects(
    exec(process.execPath, [cli, '--id', 'x']),
    (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr ?? '', /usage: sign-entry/);
      return true;
    },
  );
});

test('inspect-directory shows each verdict and fails when an entry is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inspect-'));
  try {
    const op = generateOperatorKey();
    const other = generateOperatorKey();
    await writeFile(join(dir, 'op.key'), op.privateKeyPem);
    await writeFile(join(dir, 'op.pub'), op.publicKeyPem);
    await writeFile(join(dir, 'other.pub'), other.publicKeyPem);
    const a = await selfSigned({ commonName: 'a', usage: 'server' });
    await writeFile(join(dir, 'a.crt'), a.certPem);
    const out = join(dir, 'directory.json');
    await exec(process.execPath, [
      cli,
      '--key',
      join(dir, 'op.key'),
      '--id',
      'egress-1',
      '--endpoint',
      '127.0.3.1:8443',
      '--region',
      'eu',
      '--cert',
      join(dir, 'a.crt'),
      '--days',
      '7',
      '--out',
      out,
    ]);
    const inspect = fileURLToPath(new URL('../src/inspect-directory.ts', import.meta.url));
    const good = await exec(process.execPath, [
      inspect,
      '--file',
      out,
      '--operator-key',
      join(dir, 'op.pub'),
      '--json',
    ]);
    assert.equal(JSON.parse(good.stdout)[0].verdict, 'valid');
    await assert.rejects(
      exec(process.execPath, [
        inspect,
        '--file',
        out,
        '--operator-key',
        join(dir, 'other.pub'),
        '--json',
      ]),
      (err: { code?: number; stdout?: string }) => {
        assert.equal(err.code, 1);
        assert.equal(JSON.parse(err.stdout ?? '[]')[0].verdict, 'unknown-key');
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('with pools: serves from the config, and the geofeed and manifest URLs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sign-'));
  try {
    const op = generateOperatorKey();
    await writeFile(join(dir, 'op.key'), op.privateKeyPem);
    const a = await selfSigned({ commonName: 'a', usage: 'server' });
    await writeFile(join(dir, 'a.crt'), a.certPem);
    const example = fileURLToPath(
      new URL('../../../deploy/egress/egress.example.json', import.meta.url),
    );
    const out = join(dir, 'directory.json');
    const args = (id: string) => [
      cli,
      ...['--key', join(dir, 'op.key'), '--id', id, '--endpoint', '127.0.3.1:8443'],
      ...['--region', 'eu', '--cert', join(dir, 'a.crt'), '--days', '7', '--out', out],
      ...['--serves-from', example],
      ...['--geofeed', 'https://egress-1.cdn.example/geofeed.csv'],
      ...['--manifest', 'https://egress-1.cdn.example/.well-known/splitrelay/manifest'],
    ];
    await exec(process.execPath, args('egress-1'));
    const file = JSON.parse(await readFile(out, 'utf8'));
    const entry = verifyDirectory(
      file,
      { [op.kid]: op.publicKeyPem },
      Math.floor(Date.now() / 1000),
    ).entries.get('egress-1');
    assert.deepEqual(entry?.serves, ['DE', 'DE-BY', 'NL']);
    assert.equal(entry?.geofeed, 'https://egress-1.cdn.example/geofeed.csv');
    assert.equal(entry?.manifest, 'https://egress-1.cdn.example/.well-known/splitrelay/manifest');
    // The config of another egress is refused: its pools are not this one's.
    await assert.rejects(
      exec(process.execPath, args('egress-2')),
      /config of egress-1, not egress-2/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
