#!/usr/bin/env node
/**
 * Oblivious HTTP under load, standalone, on the real apps:
 *
 *   node bench/src/ohttp-load.ts [--seconds 5] [--rounds 2] [--concurrency 64] [--profile]
 *
 * Two cores: the relays run on CPU 0, everything else (this load generator and the target,
 * each its own process) on CPU 1, pinned with `taskset`, so the load never competes with the
 * process it measures. Per path and KEM, in interleaved rounds:
 *
 *   gateway   this process acts as the ingress relay: mTLS h2 to the egress's trunk, POSTs of
 *             encapsulated requests to the gateway, the gateway performing each against the
 *             HTTP target on 127.0.4.1 (one core: the egress process alone on CPU 0)
 *   relay     this process acts as the client: h2 to the ingress's relay, which forwards over
 *             the trunk to the gateway (ingress and egress sharing CPU 0)
 *
 * Requests are encapsulated before the clock starts (a pool of distinct ones, each with its own
 * HPKE context: the client's work is not what is measured); a sample of answers is opened to
 * check they are the target's. Figures: requests/s (wall), requests per CPU-second of the relay
 * processes (/proc/PID/stat, all threads: the "per core" figure), p50/p99 latency at
 * `--concurrency` in flight and with one in flight. `--profile` runs the gateway under
 * `--cpu-prof` for one extra X25519 window and prints where its time went.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { decodeResponse, encodeRequest } from '@splitrelay/bhttp';
import { ohttpKeysBytes } from '@splitrelay/directory';
import { decodeKeys, encapsulateRequest, type ClientResponseContext } from '@splitrelay/ohttp';
import {
  cpuSeconds,
  freePort,
  listenPort,
  prepareDeployment,
  startApp,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { ADDR, EGRESS_ID, INGRESS_NAME, TARGET_NAME } from './kit/addresses.ts';
import { percentile } from './report/stats.ts';
import { summarizeProfile } from './report/cpu-profile.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    pool: { type: 'string', default: '4000' },
    profile: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const poolSize = Number(values.pool);
if (!(seconds > 0 && rounds >= 1 && concurrency >= 1 && poolSize >= concurrency))
  throw new Error(
    '--seconds, --rounds, --concurrency and --pool must be positive (pool >= concurrency)',
  );

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const pin = (pid: number, cpu: number): void => {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
};

/** Busy share of each CPU over `ms`, from /proc/stat: what else the machine is doing. */
async function cpuBusy(ms: number): Promise<number[]> {
  const read = async () =>
    (await readFile('/proc/stat', 'utf8'))
      .split('\n')
      .filter((l) => /^cpu\d/.test(l))
      .map((l) => {
        const f = l.split(/\s+/).slice(1).map(Number);
        const idle = (f[3] ?? 0) + (f[4] ?? 0);
        return { idle, total: f.reduce((a, b) => a + b, 0) };
      });
  const a = await read();
  await new Promise((r) => setTimeout(r, ms));
  const b = await read();
  return b.map((x, i) => 1 - (x.idle - a[i]!.idle) / Math.max(1, x.total - a[i]!.total));
}

/**
 * A V8 CPU profile cut to the samples between `fromMs` and `toMs` after the process started
 * (the profile starts with the process, to within a few milliseconds).
 */
function window(
  profile: { samples: number[]; timeDeltas: number[] },
  fromMs: number,
  toMs: number,
): unknown {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += (profile.timeDeltas[i] ?? 0) / 1000;
    if (at < fromMs || at > toMs) continue;
    samples.push(profile.samples[i]!);
    timeDeltas.push(profile.timeDeltas[i]!);
  }
  return { ...profile, samples, timeDeltas };
}

const dir = await mkdtemp(join(tmpdir(), 'splitrelay-ohttp-load-'));
const apps: RunningApp[] = [];
let origin: ReturnType<typeof spawn> | undefined;
const cleanup = async (): Promise<void> => {
  await Promise.all(apps.map((a) => a.stop()));
  origin?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  const cpus = availableParallelism();
  pin(process.pid, 1);
  say(
    `ohttp-load: ${seconds} s per window, ${rounds} round(s), ${concurrency} in flight, Node ${process.version}, ${cpus} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const busy = await cpuBusy(1000);
  say(
    `machine before the run: CPU busy ${busy.map((b) => `${Math.round(b * 100)}%`).join(' / ')} (other work)`,
  );

  // The target, on CPU 1 with this process.
  origin = spawn(
    process.execPath,
    [fileURLToPath(new URL('./kit/ohttp-origin.ts', import.meta.url)), ADDR.target],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [originLine] = (await once(createInterface({ input: origin.stdout! }), 'line')) as [string];
  const originPort = (JSON.parse(originLine) as { port: number }).port;
  pin(origin.pid!, 1);

  const egressPort = await freePort(ADDR.egress);
  const deployment = await prepareDeployment({
    dir,
    ingressHost: ADDR.ingress,
    ingressName: INGRESS_NAME,
    egresses: [{ id: EGRESS_ID, host: ADDR.egress, port: egressPort, region: 'local' }],
    targetHosts: [ADDR.target],
    targetName: TARGET_NAME,
    // The origin listens on a port of its own on the target's address.
    targetCidrs: ['127.0.4.0/24'],
    ohttp: { kems: ['x25519', 'x-wing'] },
  });
  const { configs } = deployment;
  const egressConfig = configs.egress(EGRESS_ID, {
    log: { level: 'info', statsIntervalMs: 60_000, flows: false },
  });
  const startEgress = async (nodeArgs: string[] = []): Promise<RunningApp> => {
    const app = await startApp('egress', await deployment.writeConfig('egress', egressConfig), {
      nodeArgs,
    });
    pin(app.process.pid!, 0);
    return app;
  };
  let egress = await startEgress();
  apps.push(egress);
  const ingress = await startApp(
    'ingress',
    await deployment.writeConfig(
      'ingress',
      configs.ingress({
        log: { level: 'info', statsIntervalMs: 60_000 },
        // The load comes from one address: no per-address limit.
        ohttp: { rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 } },
      }),
    ),
  );
  apps.push(ingress);
  pin(ingress.process.pid!, 0);
  const ingressPort = listenPort(ingress);

  const keyConfigs = decodeKeys(ohttpKeysBytes(deployment.entries[0]!.ohttpKeys!)).value;
  const kems = [
    { name: 'X25519', config: keyConfigs.find((c) => c.kemId === 0x0020)! },
    { name: 'X-Wing', config: keyConfigs.find((c) => c.kemId === 0x647a)! },
  ];
  const request = encodeRequest({
    method: 'GET',
    scheme: 'http',
    authority: `${ADDR.target}:${originPort}`,
    path: '/resource?id=12345',
    headers: [{ name: 'accept', value: 'application/json' }],
    content: new Uint8Array(0),
    trailers: [],
  });
  const pools = new Map<string, { bodies: Uint8Array[]; contexts: ClientResponseContext[] }>();
  for (const k of kems) {
    const bodies: Uint8Array[] = [];
    const contexts: ClientResponseContext[] = [];
    for (let i = 0; i < poolSize; i++) {
      const { encapsulatedRequest, context } = await encapsulateRequest(k.config, request);
      bodies.push(encapsulatedRequest);
      contexts.push(context);
    }
    pools.set(k.name, { bodies, contexts });
  }

  const trunkCert = await readFile(deployment.ingress.trunkCert);
  const trunkKey = await readFile(deployment.ingress.trunkKey);
  const ca = await readFile(deployment.caCert, 'utf8');
  const connectGateway = (): http2.ClientHttp2Session =>
    http2.connect(`https://${EGRESS_ID}`, {
      createConnection: () =>
        tls.connect({
          host: ADDR.egress,
          port: egressPort,
          cert: trunkCert,
          key: trunkKey,
          rejectUnauthorized: false,
          ALPNProtocols: ['h2'],
          ...({ localAddress: ADDR.ingress } as tls.ConnectionOptions),
        }),
    });
  const connectRelay = (): http2.ClientHttp2Session =>
    http2.connect(`https://${ADDR.ingress}:${ingressPort}`, {
      ca,
      servername: INGRESS_NAME,
      localAddress: ADDR.client,
    } as http2.SecureClientSessionOptions);
  const paths = {
    gateway: {
      connect: connectGateway,
      path: '/.well-known/splitrelay/ohttp-gateway',
      authority: EGRESS_ID,
    },
    relay: {
      connect: connectRelay,
      path: `/.well-known/splitrelay/ohttp-relay/${EGRESS_ID}`,
      authority: INGRESS_NAME,
    },
  } as const;

  interface Window {
    readonly completed: number;
    readonly failed: number;
    readonly wallSeconds: number;
    readonly relayCpuSeconds: number;
    readonly latenciesMs: number[];
  }

  /** `inFlight` workers POSTing for `ms`; answers sampled into `sample`. */
  async function run(
    which: keyof typeof paths,
    kem: string,
    inFlight: number,
    ms: number,
    sample?: Map<number, Buffer>,
  ): Promise<Window> {
    const p = paths[which];
    const session = p.connect();
    session.on('error', () => {});
    await once(session, 'connect');
    const pool = pools.get(kem)!;
    const pids =
      which === 'gateway' ? [egress.process.pid!] : [egress.process.pid!, ingress.process.pid!];
    let next = 0;
    let completed = 0;
    let failed = 0;
    const latencies: number[] = [];
    const cpu0 = pids.reduce((s, pid) => s + cpuSeconds(pid), 0);
    const start = performance.now();
    const end = start + ms;
    const one = (index: number): Promise<void> =>
      new Promise((resolve) => {
        const t0 = performance.now();
        const stream = session.request({
          ':method': 'POST',
          ':path': p.path,
          ':authority': p.authority,
          'content-type': 'message/ohttp-req',
        });
        const chunks: Buffer[] = [];
        let status = 0;
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', () => {});
        stream.on('close', () => {
          if (status === 200) {
            completed++;
            latencies.push(performance.now() - t0);
            if (sample && sample.size < 20 && index % 97 === 0)
              sample.set(index, Buffer.concat(chunks));
          } else failed++;
          resolve();
        });
        stream.end(pool.bodies[index]);
      });
    const worker = async (): Promise<void> => {
      while (performance.now() < end) await one(next++ % pool.bodies.length);
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const wallSeconds = (performance.now() - start) / 1000;
    const relayCpuSeconds = pids.reduce((s, pid) => s + cpuSeconds(pid), 0) - cpu0;
    session.destroy();
    return { completed, failed, wallSeconds, relayCpuSeconds, latenciesMs: latencies };
  }

  const results: Record<string, unknown> = {};
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  say('');
  say(
    `${'path'.padEnd(8)} ${'KEM'.padEnd(7)} ${'req/s'.padStart(8)} ${'req/CPU-s'.padStart(10)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}   ${'1 in flight: p50 / p99 ms'}`,
  );
  for (const which of ['gateway', 'relay'] as const) {
    for (const k of kems) {
      // Warm up, then interleave: a loaded window, an unloaded one, per round.
      await run(which, k.name, concurrency, 1000);
      const loaded: Window[] = [];
      const single: Window[] = [];
      const sample = new Map<number, Buffer>();
      for (let r = 0; r < rounds; r++) {
        loaded.push(await run(which, k.name, concurrency, seconds * 1000, sample));
        single.push(await run(which, k.name, 1, Math.min(2000, seconds * 400)));
      }
      // The answers are the target's: open a sample with their own contexts.
      const pool = pools.get(k.name)!;
      for (const [index, body] of sample) {
        const response = decodeResponse(pool.contexts[index]!.decapsulateResponse(body)).value;
        if (response.status !== 200) throw new Error(`answer ${index} is ${response.status}`);
      }
      const rate = median(loaded.map((w) => w.completed / w.wallSeconds));
      const perCpu = median(loaded.map((w) => w.completed / w.relayCpuSeconds));
      const all = loaded.flatMap((w) => w.latenciesMs);
      const one = single.flatMap((w) => w.latenciesMs);
      const failed = loaded.reduce((s, w) => s + w.failed, 0);
      const key = `${which} ${k.name}`;
      results[key] = {
        requestsPerSecond: Math.round(rate),
        requestsPerCpuSecond: Math.round(perCpu),
        p50Ms: percentile(all, 50),
        p99Ms: percentile(all, 99),
        singleP50Ms: percentile(one, 50),
        singleP99Ms: percentile(one, 99),
        failed,
        answersChecked: sample.size,
      };
      say(
        `${which.padEnd(8)} ${k.name.padEnd(7)} ${Math.round(rate).toLocaleString('en-US').padStart(8)} ${Math.round(perCpu).toLocaleString('en-US').padStart(10)} ${percentile(all, 50).toFixed(1).padStart(7)} ${percentile(all, 99).toFixed(1).padStart(7)}   ${percentile(one, 50).toFixed(2)} / ${percentile(one, 99).toFixed(2)}${failed ? `  (${failed} failed)` : ''}`,
      );
    }
  }

  if (values.profile) {
    const profDir = join(dir, 'profile');
    await egress.stop();
    apps.splice(apps.indexOf(egress), 1);
    const spawned = performance.now();
    egress = await startEgress(['--cpu-prof', '--cpu-prof-dir', profDir]);
    apps.push(egress);
    await run('gateway', 'X25519', concurrency, 1000);
    // Only the measured window counts: startup (module loading) and warm-up are cut away.
    const fromMs = performance.now() - spawned;
    await run('gateway', 'X25519', concurrency, seconds * 1000);
    const toMs = performance.now() - spawned;
    await egress.stop();
    apps.splice(apps.indexOf(egress), 1);
    const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      // Kept for a closer look (bench/results/profiles/ is not in git).
      const kept = fileURLToPath(
        new URL('../results/profiles/ohttp-gateway.cpuprofile', import.meta.url),
      );
      await mkdir(dirname(kept), { recursive: true });
      await writeFile(
        kept,
        JSON.stringify(
          window(JSON.parse(await readFile(join(profDir, file), 'utf8')), fromMs, toMs),
        ),
      );
      const summary = summarizeProfile(kept, 12);
      results.profile = summary;
      say('');
      say(
        `gateway profile (X25519, ${concurrency} in flight, the measured window only; ${kept}): idle ${summary.idlePercent.toFixed(0)}%; of the busy time:`,
      );
      for (const [name, pct] of Object.entries(summary.categories).sort((a, b) => b[1] - a[1]))
        say(`  ${pct.toFixed(1).padStart(5)}%  ${name}`);
      say('  top functions (self time):');
      for (const t of summary.top) say(`  ${t.percent.toFixed(1).padStart(5)}%  ${t.fn}`);
    }
  }
  say('');
  say(
    JSON.stringify({
      seconds,
      rounds,
      concurrency,
      node: process.version,
      loadavg: loadavg(),
      results,
    }),
  );
} finally {
  await cleanup();
}
