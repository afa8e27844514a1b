/**
 * The loopback fallback: the same interface without namespaces, honest about what it cannot
 * prove. Forced with `mode: 'loopback'` as root, and reached for real by a harness that is not
 * root (run as nobody), which also cannot capture.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLab, expectedPairs, isLabError, ROLES, TRUST_MODEL } from '../src/index.ts';
import { findBinary } from '../src/commands.ts';
import { leftoversOf, markedProcesses, namespacesOf, readPcap, synPort } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'lab-fallback-'));
after(() => rmSync(root, { recursive: true, force: true }));
const node = process.execPath;
const isRoot = process.getuid?.() === 0;

test(
  'forced loopback: distinct 127.x roles, no namespaces, and limitations that say so',
  { timeout: 60_000 },
  async () => {
    const lab = await createLab({ evidenceRoot: root, mode: 'loopback', stopGraceMs: 1_000 });
    try {
      assert.equal(lab.mode, 'loopback');
      assert.equal(lab.firewall, 'none');
      assert.deepEqual(lab.links(), []);
      assert.equal(lab.namespace('client'), undefined);
      const addresses = ROLES.map((r) => lab.address(r));
      assert.equal(new Set(addresses.map((a) => a.v4)).size, ROLES.length);
      for (const a of addresses) {
        assert.match(a.v4, /^127\.1[0-9]{2}\.[0-9]{1,3}\.[1-7]$/);
        assert.equal(a.v6, undefined);
      }
      const limits = lab.limitations.join('\n');
      assert.match(limits, /loopback fallback \(forced by the lab spec\)/);
      assert.match(limits, /reachability is not enforced/);
      assert.match(limits, /no IPv6 per role/);
      assert.match(limits, /socket tables are host-wide/);
      if (isRoot && findBinary('tcpdump'))
        assert.match(limits, /captures on lo with a host filter/);
      if (findBinary('ip')) assert.deepEqual(namespacesOf(lab.id), []);

      // Every forbidden pair connects: the report must say the matrix does not hold here.
      const report = await lab.verifyReachability({ connectTimeoutMs: 1_000 });
      assert.equal(report.enforced, false);
      assert.equal(report.ok, false);
      assert.equal(report.checks.length, 42, 'IPv4 only');
      const forbidden = expectedPairs(TRUST_MODEL)
        .filter((p) => !p.allowed)
        .map((p) => `${p.from}->${p.to}`);
      assert.deepEqual(
        report.failures.map((f) => `${f.from}->${f.to}`),
        forbidden,
      );
      assert.ok(report.failures.every((f) => f.outcome === 'connected'));
      assert.ok(report.checks.filter((c) => c.expected === 'open').every((c) => c.pass));

      const ingress = lab.address('ingress').v4;
      const client = lab.address('client').v4;
      const server = lab.spawn(
        'ingress',
        node,
        [
          '-e',
          `require('node:net').createServer((s) => s.resume()).listen(8443, '${ingress}', () => console.log('ready'))`,
        ],
        { name: 'server' },
      );
      await server.waitForOutput(/ready/);
      const canCapture = isRoot && findBinary('tcpdump') !== undefined;
      const capture = canCapture ? await lab.capture(['ingress', 'target']) : undefined;
      const talker = lab.spawn(
        'client',
        node,
        [
          '-e',
          `const s = require('node:net').connect({ port: 8443, host: '${ingress}', localAddress: '${client}' }, () => { s.write('FALLBACK-MARKER'); console.log('connected'); });
       setTimeout(() => s.end(), 60_000);`,
        ],
        { name: 'talker' },
      );
      await talker.waitForOutput(/connected/);
      const [c, i] = await lab.sampleSockets(['client', 'ingress']);
      assert.ok(
        i!.entries.some(
          (e) =>
            e.state === 'LISTEN' && e.local.address === ingress && e.owners[0]?.pid === server.pid,
        ),
      );
      assert.ok(
        c!.entries.some(
          (e) => e.state === 'ESTAB' && e.local.address === client && e.remote?.address === ingress,
        ),
      );
      assert.ok(
        c!.entries.every(
          (e) => e.local.address === client || e.owners.some((o) => o.pid === talker.pid),
        ),
        "only the client's sockets",
      );
      if (capture) {
        await new Promise((r) => setTimeout(r, 100));
        const stats = await capture.stop();
        const file = (link: string): string => capture.files.find((f) => f.link === link)!.file;
        const ingressPcap = readPcap(file('ingress'));
        assert.ok(
          Buffer.concat(ingressPcap.packets.map((p) => p.data)).includes('FALLBACK-MARKER'),
        );
        assert.ok(ingressPcap.packets.some((p) => synPort(p.data) === 8443));
        assert.equal(
          readPcap(file('target')).packets.length,
          0,
          'the host filter keeps other roles out',
        );
        assert.ok(stats.every((s) => s.end === 'lo'));
      }
    } finally {
      const report = await lab.destroy();
      assert.ok(report.ok, report.cleanup.leftovers.join('\n'));
    }
    assert.deepEqual(markedProcesses(lab.id), []);
  },
);

test(
  'not root: createLab falls back by itself, and says captures are unavailable',
  {
    skip: !isRoot ? 'needs root to start a harness as nobody' : undefined,
    timeout: 60_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-nobody-'));
    chmodSync(dir, 0o777);
    const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `
    import { createLab } from ${JSON.stringify(index)};
    const lab = await createLab({ evidenceRoot: ${JSON.stringify(dir)}, stopGraceMs: 500 });
    lab.spawn('client', 'sleep', ['300']);
    let capture = 'started';
    try { await lab.capture('client'); } catch (e) { capture = e.code; }
    const reach = await lab.verifyReachability({ connectTimeoutMs: 500 });
    const report = await lab.destroy();
    console.log(JSON.stringify({ id: lab.id, mode: lab.mode, limitations: lab.limitations, capture, enforced: reach.enforced, ok: report.ok }));
  `;
    try {
      const { stdout } = await promisify(execFile)(node, ['--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: dir },
        timeout: 45_000,
      });
      const out = JSON.parse(stdout) as {
        id: string;
        mode: string;
        limitations: string[];
        capture: string;
        enforced: boolean;
        ok: boolean;
      };
      assert.equal(out.mode, 'loopback');
      assert.match(out.limitations.join('\n'), /loopback fallback \(not root\)/);
      assert.match(out.limitations.join('\n'), /no captures: tcpdump needs root/);
      assert.equal(out.capture, 'capture-failed');
      assert.equal(out.enforced, false);
      assert.ok(out.ok);
      assert.deepEqual(markedProcesses(out.id), []);
      if (findBinary('ip')) assert.deepEqual(leftoversOf(out.id), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a lab refuses an unusable matrix and unknown roles with a LabError', async () => {
  await assert.rejects(
    createLab({
      evidenceRoot: root,
      mode: 'loopback',
      reachability: { ...TRUST_MODEL, client: ['router' as never] },
    }),
    (e: unknown) =>
      isLabError(e) && e.code === 'invalid-spec' && /unknown peer "router"/.test(e.message),
  );
  const lab = await createLab({ evidenceRoot: root, mode: 'loopback' });
  try {
    assert.throws(
      () => lab.address('router' as never),
      (e: unknown) => isLabError(e) && e.code === 'unknown-role',
    );
  } finally {
    await lab.destroy();
  }
});
