/**
 * The namespaced lab on a real kernel: built to the plan, the matrix proved both ways, processes
 * placed and ended, socket tables and captures as evidence, nothing left afterwards. Needs root
 * and iproute2 (tcpdump for the capture test, nftables/iptables for the filter tests); skipped
 * with the reason otherwise.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLab,
  expectedPairs,
  isLabError,
  ROLES,
  routedPeers,
  TRUST_MODEL,
  addressPlan,
  cidr,
  type Lab,
} from '../src/index.ts';
import { findBinary } from '../src/commands.ts';
import { readManifest } from '../src/manifest.ts';
import { namedNetnsInode, netnsInodeOf } from '../src/proc.ts';
import { parseProcNet } from '../src/sockets.ts';
import {
  leftoversOf,
  markedProcesses,
  namespacesOf,
  netnsUnavailable,
  readPcap,
  synPort,
  tcpdumpUnavailable,
} from './helpers.ts';

const skip = netnsUnavailable();
const root = mkdtempSync(join(tmpdir(), 'lab-test-'));
const labs: Lab[] = [];
after(async () => {
  // A failed assertion must not leave namespaces for the next run.
  await Promise.all(labs.map((l) => l.destroy()));
  rmSync(root, { recursive: true, force: true });
});

async function newLab(spec: Parameters<typeof createLab>[0] = {}): Promise<Lab> {
  const lab = await createLab({ evidenceRoot: root, mode: 'netns', stopGraceMs: 1_000, ...spec });
  labs.push(lab);
  return lab;
}

const node = process.execPath;

describe('namespaced lab', { skip, timeout: 120_000 }, () => {
  test('is built to the plan and destroyed without a trace', async () => {
    const lab = await newLab();
    const plan = addressPlan();
    assert.equal(lab.mode, 'netns');
    assert.match(lab.id, /^sra-[0-9a-f]{6}$/);
    assert.equal(namespacesOf(lab.id).length, ROLES.length + 1);
    for (const role of ROLES) {
      assert.deepEqual(lab.address(role), { v4: plan[role].v4.host, v6: plan[role].v6.host });
      const ns = lab.namespace(role)!;
      const links = JSON.parse((await lab.exec(role, 'ip', ['-j', 'link', 'show'])).stdout) as {
        ifname: string;
        flags: string[];
      }[];
      assert.ok(links.find((l) => l.ifname === 'lo')?.flags.includes('UP'), `lo up in ${ns}`);
      const routes = JSON.parse(
        (await lab.exec(role, 'ip', ['-j', '-4', 'route', 'show'])).stdout,
      ) as { dst: string; gateway?: string }[];
      const via = routes
        .filter((r) => r.gateway)
        .map((r) => r.dst)
        .sort();
      assert.deepEqual(
        via,
        routedPeers(TRUST_MODEL, role)
          .map((p) => cidr(plan[p].v4))
          .sort(),
        `${role} routes`,
      );
      assert.ok(!routes.some((r) => r.dst === 'default'), `${role} has no default route`);
      const routes6 = JSON.parse(
        (await lab.exec(role, 'ip', ['-j', '-6', 'route', 'show'])).stdout,
      ) as { dst: string; gateway?: string }[];
      assert.deepEqual(
        routes6
          .filter((r) => r.gateway)
          .map((r) => r.dst)
          .sort(),
        routedPeers(TRUST_MODEL, role)
          .map((p) => cidr(plan[p].v6))
          .sort(),
      );
      const fwd = (
        await lab.exec(role, 'cat', [
          '/proc/sys/net/ipv4/ip_forward',
          '/proc/sys/net/ipv6/conf/all/forwarding',
        ])
      ).stdout;
      assert.equal(fwd, '0\n0\n', `forwarding off in ${role}`);
    }
    const routerFwd = JSON.parse(
      readFileSync(join(lab.runDir, 'topology', 'router.json'), 'utf8'),
    ) as { forwarding: object };
    assert.deepEqual(routerFwd.forwarding, { ipv4: true, ipv6: true });
    assert.equal(
      (await lab.exec('client', 'cat', ['/etc/resolv.conf'])).stdout,
      'nameserver 203.0.113.18\nnameserver 2001:db8:0:7::2\n',
    );
    assert.deepEqual(lab.limitations, []);
    const described = JSON.parse(readFileSync(join(lab.runDir, 'lab.json'), 'utf8')) as {
      mode: string;
      firewall: string;
    };
    assert.equal(described.mode, 'netns');

    const report = await lab.destroy();
    assert.ok(report.ok, report.cleanup.leftovers.join('\n'));
    assert.equal(report.cleanup.namespacesRemoved.length, ROLES.length + 1);
    assert.deepEqual(leftoversOf(lab.id), []);
    assert.equal(readManifest(lab.manifestPath).at(-1)?.t, 'destroyed');
    assert.throws(
      () => lab.spawn('client', 'true'),
      (e: unknown) => isLabError(e) && e.code === 'destroyed',
    );
    assert.equal(await lab.destroy(), report, 'destroy is idempotent');
  });

  test('verifyReachability proves the matrix: routes refuse, the router drops, allowed pairs connect', async () => {
    const lab = await newLab();
    const report = await lab.verifyReachability({ connectTimeoutMs: 1_000 });
    assert.ok(report.ok, JSON.stringify(report.failures, null, 2));
    assert.equal(report.checks.length, 84, '42 ordered pairs, IPv4 and IPv6');
    const count = (expected: string, outcome: string): number =>
      report.checks.filter((c) => c.expected === expected && c.outcome === outcome).length;
    assert.equal(count('open', 'connected'), 18);
    // No route at all: the sender's own stack refuses at once.
    assert.equal(count('blocked', 'unreachable'), 48);
    // A route exists (for replies) but the router forwards no new connection that way.
    assert.equal(count('blocked', 'timeout'), 18);
    const ingressToTarget = report.checks.filter((c) => c.from === 'ingress' && c.to === 'target');
    assert.deepEqual(
      ingressToTarget.map((c) => c.code),
      ['ENETUNREACH', 'ENETUNREACH'],
    );
    assert.ok(existsSync(report.file));
    await lab.destroy();
    const filter = readFileSync(join(lab.runDir, 'router-filter.txt'), 'utf8');
    const dropped = /counter packets (\d+) bytes \d+ drop comment "forbidden"/.exec(filter);
    assert.ok(dropped && Number(dropped[1]) >= 18, filter);
  });

  test(
    'the router filter holds when a namespace gains a forbidden route; without one, verification fails',
    {
      skip: findBinary('nft') === undefined ? 'needs nftables' : undefined,
    },
    async () => {
      // Two labs at once: distinct names, no clash.
      const [filtered, open] = await Promise.all([
        newLab({ firewall: 'nftables' }),
        newLab({ firewall: 'none' }),
      ]);
      assert.notEqual(filtered.id, open.id);
      assert.ok(
        open.limitations.some((l) => /no packet filter/.test(l)),
        open.limitations.join('\n'),
      );
      const plan = addressPlan();
      for (const lab of [filtered, open]) {
        // Both directions, or the target's answers would have no way back.
        await lab.exec('ingress', 'ip', [
          'route',
          'add',
          cidr(plan.target.v4),
          'via',
          plan.ingress.v4.router,
        ]);
        await lab.exec('target', 'ip', [
          'route',
          'add',
          cidr(plan.ingress.v4),
          'via',
          plan.target.v4.router,
        ]);
      }
      const [withFilter, withoutFilter] = await Promise.all([
        filtered.verifyReachability({ connectTimeoutMs: 1_000 }),
        open.verifyReachability({ connectTimeoutMs: 1_000 }),
      ]);
      assert.ok(withFilter.ok, JSON.stringify(withFilter.failures, null, 2));
      const i2t = withFilter.checks.find(
        (c) => c.from === 'ingress' && c.to === 'target' && c.family === 4,
      )!;
      assert.equal(i2t.outcome, 'timeout', 'the router dropped it');
      // Routes alone do not enforce direction: every pair routed for replies opens the other way
      // too (the egress to the ingress...), and the added route opens ingress <-> target.
      const reverse = expectedPairs(TRUST_MODEL)
        .filter((p) => !p.allowed && routedPeers(TRUST_MODEL, p.from).includes(p.to))
        .flatMap((p) => [`${p.from}->${p.to}/4 connected`, `${p.from}->${p.to}/6 connected`]);
      assert.equal(reverse.length, 18);
      assert.equal(withoutFilter.ok, false);
      assert.deepEqual(
        withoutFilter.failures.map((f) => `${f.from}->${f.to}/${f.family} ${f.outcome}`).sort(),
        [...reverse, 'ingress->target/4 connected', 'target->ingress/4 connected'].sort(),
      );
      await Promise.all([filtered.destroy(), open.destroy()]);
      assert.deepEqual([...leftoversOf(filtered.id), ...leftoversOf(open.id)], []);
    },
  );

  test(
    'an iptables router enforces the same matrix',
    {
      skip:
        findBinary('iptables') === undefined || findBinary('ip6tables') === undefined
          ? 'needs iptables'
          : undefined,
    },
    async () => {
      const lab = await newLab({ firewall: 'iptables' });
      assert.equal(lab.firewall, 'iptables');
      const report = await lab.verifyReachability({ connectTimeoutMs: 1_000 });
      assert.ok(report.ok, JSON.stringify(report.failures, null, 2));
      await lab.destroy();
      assert.match(readFileSync(join(lab.runDir, 'router-filter.txt'), 'utf8'), /ingress->egress/);
    },
  );

  test('spawned processes run in their role, write evidence files and end with their group', async () => {
    const lab = await newLab();
    const proc = lab.spawn(
      'egress',
      'sh',
      ['-c', 'echo "out $GREETING"; echo err >&2; sleep 300 & exec sleep 301'],
      {
        name: 'forker',
        env: { GREETING: 'hello' },
      },
    );
    assert.equal(await proc.waitForOutput(/^out/), 'out hello');
    await proc.waitForOutput(/^err/);
    assert.equal(netnsInodeOf(proc.pid), namedNetnsInode(lab.namespace('egress')!));
    assert.match(proc.stdoutFile, /processes\/egress-forker\.stdout\.log$/);
    assert.equal(readFileSync(proc.stderrFile, 'utf8'), 'err\n');
    // The forked sleep and the exec'd one.
    let marked: number[] = [];
    for (let i = 0; i < 40 && marked.length < 2; i++) {
      marked = markedProcesses(lab.id);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(marked.length, 2);
    const exit = await proc.stop(1_000);
    assert.equal(exit.signal, 'SIGTERM');
    assert.deepEqual(markedProcesses(lab.id), [], 'the forked child went with the group');
    await assert.rejects(
      lab.spawn('client', 'true').waitForOutput(/never/, { timeoutMs: 2_000 }),
      (e: unknown) => isLabError(e) && e.code === 'timeout',
    );
    await lab.destroy();
  });

  test('socket tables show who is connected to whom, with owners, from ss and from /proc alike', async () => {
    const lab = await newLab();
    const ingress = lab.address('ingress');
    const server = lab.spawn(
      'ingress',
      node,
      [
        '-e',
        `const net = require('node:net');
       let n = 0; const ready = () => { if (++n === 2) console.log('ready'); };
       net.createServer(() => {}).listen(8443, '${ingress.v4}', ready);
       net.createServer(() => {}).listen({ port: 8443, host: '${ingress.v6}', ipv6Only: true }, ready);`,
      ],
      { name: 'server' },
    );
    await server.waitForOutput(/ready/);
    const client = lab.spawn(
      'client',
      node,
      [
        '-e',
        `const s = require('node:net').connect(8443, '${ingress.v4}', () => console.log('connected'));
       setTimeout(() => s.end(), 60_000);`,
      ],
      { name: 'client' },
    );
    await client.waitForOutput(/connected/);

    const [c, i] = await lab.sampleSockets(['client', 'ingress']);
    assert.equal(c!.source, 'ss');
    const outgoing = c!.entries.find((e) => e.state === 'ESTAB' && e.remote?.port === 8443);
    assert.deepEqual(outgoing?.remote, { address: ingress.v4, port: 8443 });
    assert.equal(outgoing?.local.address, lab.address('client').v4);
    assert.equal(outgoing?.owners[0]?.pid, client.pid);
    const listeners = i!.entries
      .filter((e) => e.state === 'LISTEN')
      .map((e) => `${e.local.address}:${e.local.port}`);
    assert.deepEqual(listeners.sort(), [`${ingress.v4}:8443`, `${ingress.v6}:8443`].sort());
    assert.ok(i!.entries.every((e) => e.state !== 'LISTEN' || e.owners[0]?.pid === server.pid));
    const incoming = i!.entries.find((e) => e.state === 'ESTAB');
    assert.deepEqual(incoming?.remote, {
      address: lab.address('client').v4,
      port: outgoing!.local.port,
    });

    // The /proc tables of the same namespace name the same sockets.
    const fromProc = [
      ...parseProcNet((await lab.exec('ingress', 'cat', ['/proc/net/tcp'])).stdout, {
        protocol: 'tcp',
        family: 4,
        littleEndian: true,
      }),
      ...parseProcNet((await lab.exec('ingress', 'cat', ['/proc/net/tcp6'])).stdout, {
        protocol: 'tcp',
        family: 6,
        littleEndian: true,
      }),
    ];
    const key = (e: { state: string; local: { address: string; port: number } }): string =>
      `${e.state} ${e.local.address}:${e.local.port}`;
    assert.deepEqual(
      fromProc.map(key).sort(),
      i!.entries
        .filter((e) => e.protocol === 'tcp')
        .map(key)
        .sort(),
    );

    const sampling = lab.startSocketSampling({ intervalMs: 100, roles: ['ingress'] });
    await new Promise((r) => setTimeout(r, 450));
    await sampling.stop();
    const lines = readFileSync(join(lab.runDir, 'sockets', 'ingress.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.ok(lines.length >= 1 + 3, `${lines.length} samples`);
    const last = JSON.parse(lines.at(-1)!) as { role: string; entries: unknown[] };
    assert.equal(last.role, 'ingress');
    assert.ok(last.entries.length >= 3);
    await lab.destroy();
    assert.deepEqual(markedProcesses(lab.id), []);
  });

  test(
    'captures keep whole packets, from the moment capture() resolves, one pcap per link end',
    {
      skip: tcpdumpUnavailable(),
    },
    async () => {
      // The test runner's own pipes are there before and after; the lab must add none.
      const handles = (): string[] =>
        process
          .getActiveResourcesInfo()
          .filter((r) => ['ProcessWrap', 'PipeWrap', 'FSReqCallback'].includes(r))
          .sort();
      const baseline = handles();
      const lab = await newLab();
      const ingress = lab.address('ingress');
      const server = lab.spawn(
        'ingress',
        node,
        [
          '-e',
          `require('node:net').createServer((s) => s.resume()).listen(8443, '${ingress.v4}', () => console.log('ready'))`,
        ],
        { name: 'sink' },
      );
      await server.waitForOutput(/ready/);
      const capture = await lab.capture(['client', 'ingress', 'egress'], { ends: 'both' });
      assert.equal(capture.files.length, 6);
      // Traffic starts the instant the capture is up: its very first SYN must be in the files.
      const marker = 'LAB-CAPTURE-MARKER-7f3a';
      const sent = await lab.exec('client', node, [
        '-e',
        `const s = require('node:net').connect(8443, '${ingress.v4}', () => s.end(Buffer.concat([Buffer.from('${marker}'), Buffer.alloc(6000, 0x61)])));`,
      ]);
      assert.equal(sent.code, 0, sent.stderr);
      const stats = await capture.stop();
      for (const file of capture.files) {
        const pcap = readPcap(file.file);
        const stat = stats.find((s) => s.file === file.file)!;
        assert.equal(pcap.linktype, 1, 'Ethernet');
        assert.equal(pcap.snaplen, 262144);
        assert.equal(
          stat.packetsCaptured,
          pcap.packets.length,
          `${file.file}: every captured packet was written`,
        );
        assert.ok(
          pcap.packets.every((p) => p.caplen === p.origlen),
          'no packet cut short',
        );
        const all = Buffer.concat(pcap.packets.map((p) => p.data));
        if (file.link === 'egress') {
          assert.ok(!all.includes(marker), 'the egress link carries none of it');
        } else {
          assert.ok(all.includes(marker), `${file.link}.${file.end} holds the payload`);
          assert.ok(
            pcap.packets.some((p) => synPort(p.data) === 8443),
            `${file.link}.${file.end} holds the first SYN`,
          );
          const bytes = pcap.packets.reduce((n, p) => n + p.caplen, 0);
          assert.ok(bytes > 6000, `${file.link}.${file.end}: ${bytes} bytes`);
        }
      }
      await lab.destroy();
      assert.deepEqual(handles(), baseline, 'destroy() released every child, pipe and file');
    },
  );
});
