#!/usr/bin/env node
/**
 * Oblivious HTTP micro-benchmark, standalone: `node bench/src/ohttp-micro.ts [--seconds N]`.
 * One process, one core, sequential awaits (no concurrency to hide latency behind):
 *
 *  1. HPKE round trips per second (setupSender + seal, setupRecipient + open, 100 bytes) for
 *     @splitrelay/hpke's node:crypto backends vs the same library (panva's `hpke`) on its
 *     default WebCrypto algorithms, for X25519 and for X-Wing;
 *  2. gateway work per second: decapsulate a ready-made Encapsulated Request carrying a
 *     small Binary HTTP GET, decode it, and encapsulate a small Binary HTTP response;
 *  3. chunked response sealing throughput with 16 KiB chunks (what a gateway streaming a
 *     large response pays per byte).
 *
 * Figures vary with the machine and its load (2 shared cores here): compare within a run.
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

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error('--seconds must be a positive number');

/** Runs `fn` for `seconds` after a short warm-up; returns operations per second. */
async function rate(fn: () => Promise<unknown> | unknown, warmup = 0.3): Promise<number> {
  const until = (s: number) => performance.now() + s * 1000;
  for (const end = until(warmup); performance.now() < end;) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const message = new Uint8Array(100).fill(0x61);
const info = new TextEncoder().encode(
  'message/bhttp request\u0000\u0001\u0000\u0020\u0000\u0001\u0000\u0001',
);

async function roundTrips(ids: SuiteIds, backend: 'node' | 'webcrypto'): Promise<number> {
  const suite = createSuite(ids, { backend });
  const pair = await suite.generateKeyPair();
  return rate(async () => {
    const { enc, context } = await suite.setupSender(pair.publicKey, info);
    const ct = await context.seal(message);
    await (await suite.setupRecipient(pair.privateKey, enc, info)).open(ct);
  });
}

const X25519_AES: SuiteIds = { kemId: 0x0020, kdfId: 0x0001, aeadId: 0x0001 };
const XWING_AES: SuiteIds = { kemId: 0x647a, kdfId: 0x0001, aeadId: 0x0001 };

const results: Record<string, number> = {};
const line = (label: string, value: string) =>
  process.stdout.write(`${label.padEnd(58)} ${value}\n`);
const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;

process.stdout.write(`ohttp-micro: ${seconds} s per figure, Node ${process.version}\n\n`);
process.stdout.write('HPKE round trips (seal + open, 100 bytes)\n');
for (const [name, ids] of [
  ['X25519/HKDF-SHA256/AES-128-GCM', X25519_AES],
  ['X-Wing/HKDF-SHA256/AES-128-GCM', XWING_AES],
] as const) {
  const node = await roundTrips(ids, 'node');
  const web = await roundTrips(ids, 'webcrypto');
  results[`hpke ${name} node`] = node;
  results[`hpke ${name} webcrypto`] = web;
  line(`  ${name}, node:crypto backend`, fmt(node));
  line(`  ${name}, library default (WebCrypto)`, fmt(web));
  line(`  ${name}, speed-up`, `${(node / web).toFixed(1)}x`);
}

process.stdout.write(
  '\nGateway work (decapsulate request + decode BHTTP + encapsulate response)\n',
);
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
for (const [name, ids] of [
  ['X25519/AES-128-GCM', X25519_AES],
  ['X-Wing/AES-128-GCM', XWING_AES],
] as const) {
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
  // Distinct requests, made before timing (the client's work is not the gateway's).
  const requests: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++)
    requests.push((await encapsulateRequest(config, bhttpRequest)).encapsulatedRequest);
  let i = 0;
  const gw = await rate(async () => {
    const { request, context } = await gateway.decapsulateRequest(
      requests[i++ % requests.length] as Uint8Array,
    );
    decodeRequest(request);
    context.encapsulateResponse(bhttpResponse);
  });
  results[`gateway ${name}`] = gw;
  line(`  ${name}, one core`, `${fmt(gw)} requests`);
}

process.stdout.write('\nChunked response sealing (16 KiB chunks)\n');
{
  const pair = await createSuite(X25519_AES).generateKeyPair();
  const gateway = await createGateway({
    keys: [
      {
        keyId: 1,
        kemId: 0x20,
        privateKey: pair.privateKeyBytes,
        symmetric: [{ kdfId: 1, aeadId: 1 }],
      },
    ],
  });
  const writer = await encapsulateChunkedRequest(
    gateway.configs[0] as NonNullable<(typeof gateway.configs)[0]>,
  );
  const decoder = new ChunkedRequestDecoder(gateway);
  await decoder.push(Buffer.concat([writer.header, await writer.sealFinal(bhttpRequest)]));
  await decoder.end();
  const encoder = decoder.responseEncoder();
  const chunk = new Uint8Array(16384).fill(0x42);
  const perSecond = await rate(() => encoder.sealChunk(chunk));
  results['chunked seal MB/s'] = (perSecond * chunk.length) / 1e6;
  line('  AES-128-GCM, node:crypto', `${results['chunked seal MB/s']?.toFixed(0)} MB/s`);
}

process.stdout.write(`\n${JSON.stringify({ seconds, node: process.version, results })}\n`);
