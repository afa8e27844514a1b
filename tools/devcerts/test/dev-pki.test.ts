import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki, selfSigned, type DevPkiSpec } from '../src/index.ts';
import { assertNoLeakedHandles, startTlsServer, tlsRequest } from './helpers.ts';

const spec: DevPkiSpec = {
  ca: 'demo-ca',
  certs: {
    egress: {
      commonName: 'egress-1',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.3', '::1'],
      usage: 'server',
      issuer: 'ca',
    },
    'ingress-client': { commonName: 'ingress-1', usage: 'client', issuer: 'self' },
    ingress: { commonName: 'ingress-1', ipAddresses: ['127.0.0.2'], usage: 'both', issuer: 'ca' },
  },
};

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'devcerts-pki-'));
  dirs.push(dir);
  return join(dir, 'pki');
}

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await assertNoLeakedHandles();
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ['demo-ca', ...Object.keys(spec.certs)]) {
    for (const ext of ['crt', 'key'])
      out[`${name}.${ext}`] = await readFile(join(dir, `${name}.${ext}`), 'utf8');
  }
  return out;
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test('creates the CA and every certificate, keys 0600, certificates chained as specified', async () => {
  const dir = await freshDir();
  const paths = await ensureDevPki(dir, spec);
  assert.deepEqual(paths.created, ['demo-ca', 'egress', 'ingress-client', 'ingress']);
  assert.deepEqual(paths.ca, { cert: join(dir, 'demo-ca.crt'), key: join(dir, 'demo-ca.key') });
  assert.deepEqual(paths.certs.egress, {
    cert: join(dir, 'egress.crt'),
    key: join(dir, 'egress.key'),
  });
  const ca = new X509Certificate(await readFile(paths.ca.cert));
  for (const [name, p] of Object.entries({ 'demo-ca': paths.ca, ...paths.certs })) {
    assert.equal(await mode(p.key), 0o600, name);
    assert.equal(await mode(p.cert), 0o644, name);
    const cert = new X509Certificate(await readFile(p.cert));
    assert.equal(cert.checkPrivateKey(createPrivateKey(await readFile(p.key))), true, name);
  }
  const egress = new X509Certificate(await readFile(join(dir, 'egress.crt')));
  assert.equal(egress.verify(ca.publicKey), true);
  assert.equal(
    egress.subjectAltName,
    'DNS:localhost, IP Address:127.0.0.3, IP Address:0:0:0:0:0:0:0:1',
  );
  const client = new X509Certificate(await readFile(join(dir, 'ingress-client.crt')));
  assert.equal(client.verify(client.publicKey), true);
  assert.equal(client.verify(ca.publicKey), false);
});

test('a second call changes nothing', async () => {
  const dir = await freshDir();
  await ensureDevPki(dir, spec);
  const before = await snapshot(dir);
  const again = await ensureDevPki(dir, spec);
  assert.deepEqual(again.created, []);
  assert.deepEqual(await snapshot(dir), before);
});

test('only what is missing, stale or off-spec is remade', async () => {
  const dir = await freshDir();
  await ensureDevPki(dir, spec);
  const first = await snapshot(dir);

  await rm(join(dir, 'egress.key'));
  assert.deepEqual((await ensureDevPki(dir, spec)).created, ['egress']);
  const second = await snapshot(dir);
  assert.notEqual(second['egress.crt'], first['egress.crt']);
  assert.equal(second['ingress.crt'], first['ingress.crt']);

  const expired = await selfSigned({
    commonName: 'ingress-1',
    usage: 'client',
    days: 1,
    now: new Date('2020-01-01'),
  });
  await writeFile(join(dir, 'ingress-client.crt'), expired.certPem);
  await writeFile(join(dir, 'ingress-client.key'), expired.keyPem);
  assert.deepEqual((await ensureDevPki(dir, spec)).created, ['ingress-client']);

  await writeFile(join(dir, 'ingress.key'), (await snapshot(dir))['egress.key'] ?? '');
  assert.deepEqual((await ensureDevPki(dir, spec)).created, ['ingress']);

  const changed: DevPkiSpec = {
    ...spec,
    certs: { ...spec.certs, ingress: { ...spec.certs.ingress!, ipAddresses: ['127.0.0.4'] } },
  };
  assert.deepEqual((await ensureDevPki(dir, changed)).created, ['ingress']);
  const ingress = new X509Certificate(await readFile(join(dir, 'ingress.crt')));
  assert.equal(ingress.subjectAltName, 'IP Address:127.0.0.4');
});

test('a remade CA brings new certificates for everything it issued', async () => {
  const dir = await freshDir();
  await ensureDevPki(dir, spec);
  await rm(join(dir, 'demo-ca.crt'));
  assert.deepEqual((await ensureDevPki(dir, spec)).created, ['demo-ca', 'egress', 'ingress']);
});

test('a key left readable by others is tightened to 0600 when reused', async () => {
  const dir = await freshDir();
  await ensureDevPki(dir, spec);
  await chmod(join(dir, 'egress.key'), 0o644);
  assert.deepEqual((await ensureDevPki(dir, spec)).created, []);
  assert.equal(await mode(join(dir, 'egress.key')), 0o600);
});

test('calls racing on one directory agree on one set of files', async () => {
  const dir = await freshDir();
  const results = await Promise.all([1, 2, 3, 4].map(() => ensureDevPki(dir, spec)));
  assert.equal(results.flatMap((r) => r.created).length, 4);
  for (const name of ['demo-ca', ...Object.keys(spec.certs)]) {
    const cert = new X509Certificate(await readFile(join(dir, `${name}.crt`)));
    assert.equal(
      cert.checkPrivateKey(createPrivateKey(await readFile(join(dir, `${name}.key`)))),
      true,
    );
  }
  await assert.rejects(stat(join(dir, '.devcerts.lock')), { code: 'ENOENT' });
});

test('names that would leave the directory or collide are refused', async () => {
  const dir = await freshDir();
  const leaf = { commonName: 'x', usage: 'server', issuer: 'ca' } as const;
  await assert.rejects(ensureDevPki(dir, { ca: 'demo-ca', certs: { '../x': leaf } }), TypeError);
  await assert.rejects(ensureDevPki(dir, { ca: '.hidden', certs: {} }), TypeError);
  await assert.rejects(ensureDevPki(dir, { ca: 'demo-ca', certs: { 'demo-ca': leaf } }), TypeError);
});

test('the files on disk carry a mutual TLS connection on a 127.x address', async (t) => {
  const dir = await freshDir();
  const paths = await ensureDevPki(dir, spec);
  const read = (p: string) => readFile(p, 'utf8');
  const server = await startTlsServer(
    {
      cert: await read(paths.certs.egress!.cert),
      key: await read(paths.certs.egress!.key),
      ca: [await read(paths.certs['ingress-client']!.cert)],
      requestCert: true,
      rejectUnauthorized: true,
    },
    '127.0.0.3',
  );
  t.after(server.close);
  const result = await tlsRequest({
    host: '127.0.0.3',
    port: server.port,
    ca: [await read(paths.ca.cert)],
    cert: await read(paths.certs['ingress-client']!.cert),
    key: await read(paths.certs['ingress-client']!.key),
  });
  assert.equal(result.ok, true);
  assert.deepEqual(server.accepted, [{ authorized: true, peerCn: 'ingress-1' }]);
});
