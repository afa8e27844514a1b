/**
 * A relay with a bad config starts nothing: it exits 1 and lists every problem at once,
 * unknown keys included. Run as an operator would, on the real programs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = (app: string): string =>
  fileURLToPath(new URL(`../../apps/${app}/src/main.js`, import.meta.url));

function runWith(app: string, config: unknown): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  try {
    const file = join(dir, `${app}.json`);
    writeFileSync(file, JSON.stringify(config));
    const res = spawnSync(process.execPath, [main(app), '--config', file], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: res.status, stderr: res.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the ingress lists every problem of its config and exits 1', () => {
  const res = runWith('ingress', { listen: 'nowhere', tls: { cert: '' }, bogus: 1 });
  assert.equal(res.status, 1);
  for (const problem of [/listen:/, /tls\.cert:/, /tls\.key:/, /trunk:/, /directory:/, /bogus/])
    assert.match(res.stderr, problem);
});

test('the egress checks its target policy with the rest of its config', () => {
  const res = runWith('egress', {
    egressId: 'Bad_Id',
    listen: '127.0.3.1:0',
    tls: { cert: '/x', key: '/y' },
    knownIngresses: [{ name: 'i', cert: '/z' }],
    policy: { allowCidrs: ['300.1.2.3/8'] },
  });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /egressId:/);
  assert.match(res.stderr, /policy:.*300\.1\.2\.3/);
});

test('the client refuses local proxies off loopback, and a missing --config gets usage', () => {
  const res = runWith('client', {
    ingress: { address: '127.0.2.1:443', servername: 'x' },
    directory: { file: '/d', operatorKeys: [{ publicKey: '/k' }] },
    socks: { listen: '0.0.0.0:1080' },
  });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /socks\.listen: local proxies listen on loopback only/);
  const usage = spawnSync(process.execPath, [main('client')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: splitrelay-client --config/);
});
