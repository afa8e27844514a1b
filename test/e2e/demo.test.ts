/**
 * The README's demo, run as a user would: it prints READY with the documented keys, the
 * proxies it names work with curl, the log files it names exist, and Ctrl-C stops it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { run } from '@splitrelay/test-kit/run';
import { buildQuery, parseAnswer } from '@splitrelay/test-kit/dns-message';
import dgram from 'node:dgram';
import { eventually } from '@splitrelay/test-kit/eventually';

const demoMain = fileURLToPath(new URL('../../apps/demo/src/main.ts', import.meta.url));
const quickstart = fileURLToPath(new URL('../../docs/quickstart.md', import.meta.url));
const testRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * docs/quickstart.md's library example, run exactly as written from a folder whose `.demo`
 * is this demo's state (the example names `.demo/...` paths, as a reader's checkout has).
 */
async function runQuickstartExample(demoDir: string): Promise<void> {
  const doc = readFileSync(quickstart, 'utf8');
  const section = doc.slice(doc.indexOf('## Use the client as a library'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'the quickstart has a library example');
  // Inside the test package, so `@splitrelay/sdk` resolves as it does for a workspace member.
  const cwd = mkdtempSync(join(testRoot, '.quickstart-'));
  try {
    symlinkSync(demoDir, join(cwd, '.demo'));
    writeFileSync(join(cwd, 'example.ts'), code);
    const res = await run(process.execPath, ['example.ts'], { cwd });
    assert.equal(res.code, 0, res.stderr);
    // Status, the address the target saw (drawn from the egress's default pool: the example
    // shares no location), and a page.
    assert.match(res.stdout, /^200 127\.0\.10\.\d{1,3} [1-9][0-9]*$/m);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

test(
  'the demo starts, prints READY, serves curl through both relays, and stops on SIGINT',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'splitrelay-demo-'));
    const child = spawn(process.execPath, [demoMain], {
      env: {
        ...process.env,
        SPLITRELAY_DEMO_DIR: dir,
        SPLITRELAY_ALLOW_TARGETS: '127.0.9.0/24',
        // The IPv6 pool changes host settings (a route, net.ipv6.ip_nonlocal_bind): only where
        // the run asks for it, e.g. in a network namespace of its own (`unshare -n`).
        SPLITRELAY_DEMO_IPV6: process.env.SPLITRELAY_DEMO_IPV6 ?? '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a failed run can take every child (nats-server too) down.
      detached: true,
    });
    const output: string[] = [];
    createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
    try {
      const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          output.push(line);
          if (line.startsWith('READY '))
            resolve(JSON.parse(line.slice(6)) as Record<string, unknown>);
        });
        child.once('exit', (code) =>
          reject(new Error(`demo exited ${code}:\n${output.join('\n')}`)),
        );
      });
      for (const key of [
        'socks',
        'http',
        'ingress',
        'egress',
        'logs',
        'nats',
        'issuer',
        'ohttpRelay',
        'ohttpKeys',
        'dns',
      ])
        assert.ok(key in ready, `READY has ${key}`);
      assert.equal(ready.socks, 'socks5h://127.0.0.1:1080');
      assert.match(
        output.join('\n'),
        /127\.0\.9\.0\/24/,
        'the extra allowlist entry reached the egress',
      );
      assert.match(output.join('\n'), /ingress log mentions the target .*: no/);
      assert.match(output.join('\n'), /egress log mentions your address .*: no/);
      assert.match(output.join('\n'), /ingress log mentions your subscriber credential: no/);
      assert.match(
        output.join('\n'),
        /the target saw the request come from 127\.0\.12\.\d+: drawn at random for this session from the pool of egress-demo's region de-munich/,
      );
      // Two regions, each egress with its pools; IPv6 when root, or said to be skipped.
      assert.match(
        output.join('\n'),
        /egress +127\.0\.3\.1:8443 +region eu, pools nl 127\.0\.10\.0\/24/,
      );
      assert.match(
        output.join('\n'),
        /egress +127\.0\.3\.2:8443 +region us, pools us-ca 127\.0\.11\.0\/24/,
      );
      assert.match(
        output.join('\n'),
        ready.ipv6 ? /over IPv6 .* it saw 2001:db8:5e:1:/ : /ipv6 +skipped/,
      );
      const egresses = ready.egresses as Record<string, { endpoint: string }>;
      const feed = await (await fetch(`${egresses['egress-demo']!.endpoint}/geofeed.csv`)).text();
      assert.match(feed, /^127\.0\.12\.0\/24,DE,DE-BY,München,$/m);
      const logs = ready.logs as Record<string, string>;
      assert.ok(existsSync(logs.ingress!) && existsSync(logs.egress!));
      for (const proxy of [String(ready.socks), String(ready.http)]) {
        const res = await run('curl', [
          '--silent',
          '--show-error',
          '--max-time',
          '15',
          '--cacert',
          String(ready.ca),
          '--proxy',
          proxy,
          String(ready.target),
        ]);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /Hello through SplitRelay/);
        // The client shares its general location (Munich): the Munich pool's addresses.
        assert.match(res.stdout, /<code>127\.0\.12\.\d{1,3}<\/code>/);
      }
      // Oblivious HTTP: the keys the ingress serves, a page through the client's endpoint,
      // and a name through its DNS forwarder (DoH to the egress's resolver).
      const keys = await run('curl', [
        '--silent',
        '--show-error',
        '--max-time',
        '15',
        '--cacert',
        String(ready.ca),
        '--output',
        '/dev/null',
        '--write-out',
        '%{http_code} %{content_type}',
        String(ready.ohttpKeys),
      ]);
      assert.equal(keys.stdout, '200 application/ohttp-keys', keys.stderr);
      const oblivious = await run('curl', [
        '--silent',
        '--show-error',
        '--max-time',
        '15',
        `${String(ready.ohttp)}/${String(ready.target)}`,
      ]);
      assert.match(oblivious.stdout, /Hello through SplitRelay/, oblivious.stderr);
      // The gateway's connection left from a pool address of its egress's default region (nl
      // or us-ca), never Munich's: a gateway request carries no location.
      assert.match(oblivious.stdout, /<code>127\.0\.1[01]\.\d{1,3}<\/code>/);
      const [dnsHost, dnsPort] = String(ready.dns).split(':');
      const socket = dgram.createSocket('udp4');
      try {
        socket.send(
          buildQuery(7, new URL(String(ready.target)).hostname),
          Number(dnsPort),
          dnsHost,
        );
        const [msg] = (await once(socket, 'message')) as [Buffer];
        assert.deepEqual(parseAnswer(msg).addresses, ['127.0.4.1']);
      } finally {
        socket.close();
      }
      await runQuickstartExample(dir);
      // Privacy Pass was in play: the ingress redeemed tokens the issuer issued.
      await eventually(
        'the ingress stats line to count redeemed tokens',
        () => /"tokensRedeemed":[1-9]/.test(readFileSync(logs.ingress!, 'utf8')),
        { timeoutMs: 8000, intervalMs: 200 },
      );
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null || child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // The group is already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
