/**
 * A relay with a bad config starts nothing: it exits 1 and lists every problem at once,
 * unknown keys included. Run as an operator would, on the real programs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

test('the egress lists every address pool problem at once: overlaps, the floor, prefixes not on the host', () => {
  const res = runWith('egress', {
    egressId: 'egress-1',
    listen: '127.0.3.1:0',
    tls: { cert: '/x', key: '/y' },
    knownIngresses: [{ name: 'i', cert: '/z' }],
    localAddress: '127.0.3.1',
    addresses: {
      defaultRegion: 'nowhere',
      entropyFloorBits: 8,
      regions: [
        { id: 'eu', country: 'NL', ipv4: ['127.0.10.0/24', '127.0.10.0/27'] },
        { id: 'us', country: 'US', ipv4: ['127.0.11.0/30'] },
        // TEST-NET-2 and a documentation IPv6 prefix: not local on any test host.
        { id: 'de', country: 'DE', ipv4: ['198.51.100.0/24'], ipv6: ['2001:db8:5e::/64'] },
      ],
    },
  });
  assert.equal(res.status, 1);
  for (const problem of [
    /localAddress: set addresses .* or localAddress .*, not both/,
    /addresses\.regions\.0\.ipv4\.1: overlaps 127\.0\.10\.0\/24 at regions\.0\.ipv4\.0/,
    /addresses\.regions\.1\.ipv4: draw entropy 1\.00 bits is below the floor of 8 bits \(2 usable addresses\)/,
    /addresses\.regions\.2\.ipv4\.0: 198\.51\.100\.0\/24 is not local on this host: bind it with `ip route add local 198\.51\.100\.0\/24 dev lo`/,
    /addresses\.regions\.2\.ipv6\.0: 2001:db8:5e::\/64 is not local on this host: bind it with `ip -6 route add local 2001:db8:5e::\/64 dev lo`/,
    // This host (like most) keeps the default: the start-up says what else IPv6 AnyIP needs.
    ...(readFileSync('/proc/sys/net/ipv6/ip_nonlocal_bind', 'utf8').trim() === '1'
      ? []
      : [/addresses\.regions\.2\.ipv6: IPv6 pools need net\.ipv6\.ip_nonlocal_bind = 1/]),
    /addresses\.defaultRegion: names no configured region/,
  ])
    assert.match(res.stderr, problem);
  // The loopback pools are local on Linux: no host problem is reported for them.
  assert.doesNotMatch(res.stderr, /127\.0\.1[01]\.0\/\d+ is not local/);
});
