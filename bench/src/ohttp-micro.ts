#!/usr/bin/env node
/**
 * Oblivious HTTP micro-benchmark, standalone:
 *
 *   node bench/src/ohttp-micro.ts [--seconds 4] [--rounds 8]
 *
 * One process, sequential awaits (no concurrency to hide latency behind):
 *
 *  1. HPKE round trips (setupSender + seal, setupRecipient + open, 100 bytes) with
 *     @splitrelay/hpke's node:crypto backends vs the same library (panva's `hpke`) on its
 *     default WebCrypto algorithms, for X25519 and for X-Wing. The two contenders run in
 *     interleaved slices (A B, B A, ...) so machine load hits both alike; the speed-up is the
 *     median of the per-pair ratios.
 *  2. Gateway work: decapsulate a ready-made Encapsulated Request carrying a small Binary
 *     HTTP GET, decode it, encapsulate a small Binary HTTP response.
 *  3. Chunked response sealing throughput with 16 KiB chunks.
 *
 * Each figure is given per wall-clock second and per CPU-second of this process (all its
 * threads: WebCrypto work runs on libuv's pool, so wall time alone flatters it on an idle
 * machine and punishes it on a busy one). The machine is shared: compare within a run.
 */
import { parseArgs } from 'node:util';
import { decodeRequest, encodeRequest, encodeResponse } from '@splitrelay/bhttp';
import { createSuite, type SuiteIds } from '@splitrelay/hpke';
import {
  ChunkedRequestDecoder,
  createGateway,
  encapsulateChunkedRequest,
  encapsulateRequest,
} from '@splitrelay/ohttp';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '4' }, rounds: { type: 'string', default: '8' } },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (!(seconds > 0) || !(rounds >= 1)) throw new Error('--seconds and --rounds must be positive');

interface Rate {
  /** Operations per wall-clock second. */
  readonly wall: number;
  /** Operations per CPU-second of this process. */
  readonly cpu: number;
}

async function measure(fn: () => unknown, secondsEach: number): Promise<Rate> {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + secondsEach * 1000;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall: n / wall, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const medianRate = (rs: readonly Rate[]): Rate => ({
  wall: median(rs.map((r) => r.wall)),
  cpu: median(rs.map((r) => r.cpu)),
});

/** A short warm-up, then the median over `rounds` slices. */
async function rate(fn: () => unknown): Promise<Rate> {
  await measure(fn, 0.3);
  const slices: Rate[] = [];
  for (let r = 0; r < rounds; r++) slices.push(await measure(fn, seconds / rounds));
  return medianRate(slices);
}

/** Two contenders in interleaved slices; medians of each and of the per-pair ratios. */
async function compare(a: () => unknown, b: () => unknown) {
  await measure(a, 0.3);
  await measure(b, 0.3);
  const ra: Rate[] = [];
  const rb: Rate[] = [];
  const slice = seconds / rounds / 2;
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      ra.push(await measure(a, slice));
      rb.push(await measure(b, slice));
    } else {
      rb.push(await measure(b, slice));
      ra.push(await measure(a, slice));
    }
  }
  return {
    a: medianRate(ra),
    b: medianRate(rb),
    wallRatio: median(ra.map((x, i) => x.wall / (rb[i] as Rate).wall)),
    cpuRatio: median(ra.map((x, i) => x.cpu / (rb[i] as Rate).cpu)),
  };
}

const message = new Uint8Array(100).fill(0x61);
const info = new TextEncoder().encode(
  'message/bhttp request\u0000\u0001\u0000\u0020\u0000\u0001\u0000\u0001',
);

async function roundTrip(ids: SuiteIds, backend: 'node' | 'webcrypto'): Promise<() => unknown> {
  const suite = createSuite(ids, { backend });
  const pair = await suite.generateKeyPair();
  return async () => {
    const { enc, context } = await suite.setupSender(pair.publicKey, info);
    const ct = await context.seal(message);
    await (await suite.setupRecipient(pair.privateKey, enc, info)).open(ct);
  };
}

const X25519_AES: SuiteIds = { kemId: 0x0020, kdfId: 0x0001, aeadId: 0x0001 };
const XWING_AES: SuiteIds = { kemId: 0x647a, kdfId: 0x0001, aeadId: 0x0001 };

const results: Record<string, number> = {};
const line = (label: string, value: string) =>
  process.stdout.write(`${label.padEnd(48)} ${value}\n`);
const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const both = (r: Rate) => `${fmt(r.wall).padStart(9)} wall  ${fmt(r.cpu).padStart(9)} cpu`;

process.stdout.write(
  `ohttp-micro: ${seconds} s per figure in ${rounds} slices (medians), Node ${process.version}\n\n`,
);

process.stdout.write('HPKE round trips (seal + open, 100 bytes)\n');
for (const [name, ids] of [
  ['X25519/HKDF-SHA256/AES-128-GCM', X25519_AES],
  ['X-Wing/HKDF-SHA256/AES-128-GCM', XWING_AES],
] as const) {
  const c = await compare(await roundTrip(ids, 'node'), await roundTrip(ids, 'webcrypto'));
  results[`hpke ${name} node wall/s`] = c.a.wall;
  results[`hpke ${name} node cpu/s`] = c.a.cpu;
  results[`hpke ${name} webcrypto wall/s`] = c.b.wall;
  results[`hpke ${name} webcrypto cpu/s`] = c.b.cpu;
  results[`hpke ${name} speed-up wall`] = c.wallRatio;
  results[`hpke ${name} speed-up cpu`] = c.cpuRatio;
  line(`  ${name}, node:crypto`, both(c.a));
  line(`  ${name}, library default`, both(c.b));
  line(
    `  ${name}, speed-up`,
    `${c.wallRatio.toFixed(1).padStart(7)}x wall ${c.cpuRatio.toFixed(1).padStart(8)}x cpu`,
  );
}

process.stdout.write('\nGateway: decapsulate request + decode BHTTP + encapsulate response\n');
const bhttpRequest = encodeRequest({
  method: 'GET',
  scheme: 'https',
  authority: 'target.example',
  path: '/resource?id=12345',
  headers: [{ name: 'accept', value: 'application/json' }],
  content: new Uint8Array(0),
  trailers: [],
});
const bhttpResponse = encodeResponse({
  informational: [],
  status: 200,
  headers: [{ name: 'content-type', value: 'application/json' }],
  content: new Uint8Array(200).fill(0x7b),
  trailers: [],
});

async function gatewayFor(ids: SuiteIds) {
  const pair = await createSuite(ids).generateKeyPair();
  const gateway = await createGateway({
    keys: [
      {
        keyId: 1,
        kemId: ids.kemId,
        privateKey: pair.privateKeyBytes,
        symmetric: [{ kdfId: ids.kdfId, aeadId: ids.aeadId }],
      },
    ],
  });
  const config = gateway.configs[0];
  if (config === undefined) throw new Error('no key configuration');
  return { gateway, config };
}

for (const [name, ids] of [
  ['X25519/AES-128-GCM', X25519_AES],
  ['X-Wing/AES-128-GCM', XWING_AES],
] as const) {
  const { gateway, config } = await gatewayFor(ids);
  // Distinct requests, made before timing (the client's work is not the gateway's).
  const requests: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    requests.push((await encapsulateRequest(config, bhttpRequest)).encapsulatedRequest);
  }
  let i = 0;
  const gw = await rate(async () => {
    const next = requests[i++ % requests.length] as Uint8Array;
    const { request, context } = await gateway.decapsulateRequest(next);
    decodeRequest(request);
    context.encapsulateResponse(bhttpResponse);
  });
  results[`gateway ${name} wall/s`] = gw.wall;
  results[`gateway ${name} cpu/s`] = gw.cpu;
  line(`  ${name}`, both(gw));
}

process.stdout.write('\nChunked response sealing (16 KiB chunks)\n');
{
  const { gateway, config } = await gatewayFor(X25519_AES);
  const writer = await encapsulateChunkedRequest(config);
  const decoder = new ChunkedRequestDecoder(gateway);
  await decoder.push(Buffer.concat([writer.header, await writer.sealFinal(bhttpRequest)]));
  await decoder.end();
  const encoder = decoder.responseEncoder();
  const chunk = new Uint8Array(16384).fill(0x42);
  const r = await rate(() => encoder.sealChunk(chunk));
  results['chunked seal MB/s wall'] = (r.wall * chunk.length) / 1e6;
  line('  AES-128-GCM', `${results['chunked seal MB/s wall']?.toFixed(0)} MB/s`);
}

process.stdout.write(`\n${JSON.stringify({ seconds, rounds, node: process.version, results })}\n`);
