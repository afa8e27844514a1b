/**
 * The preloads on a real process (test/fixtures/traffic.ts): every kind of head, the bytes
 * behind a head, reads per stream, peers both ways, UDP, the end record; a killed process
 * still leaves what was flushed; without the variable nothing is written; the DNS observer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLeaks } from '@splitrelay/evidence';
import {
  CAPTURE_LIMIT_ENV,
  DNS_OBSERVER_PRELOAD,
  captureHaystacks,
  captureLaunch,
  combineLaunches,
  dnsObserverLaunch,
  headerValues,
  headsOf,
  readCaptureFile,
  readLookups,
  type Capture,
} from '../src/index.ts';
import { runTraffic } from './helpers.ts';

const T = { timeout: 30_000 };
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'capture-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const text = (c: Capture): string =>
  [...c.streams.values()].map((s) => s.bytes.toString('latin1')).join('\n');

describe('a process that exits', T, () => {
  let capture: Capture;
  before(async () => {
    const file = join(dir, 'exit.capture');
    const run = await runTraffic(captureLaunch(file), 'exit');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /done h2-data/, 'the preload changed nothing the process did');
    capture = await readCaptureFile(file);
  });

  test('every HTTP/1.1 head a server parsed, by kind, with method, target and fields', () => {
    const [request] = headsOf(capture, 'http1-request');
    assert.equal(request?.method, 'POST');
    assert.equal(request?.target, '/form?q=request-target');
    assert.deepEqual(headerValues(request!, 'x-seen'), ['in-a-request']);
    const [connect] = headsOf(capture, 'http1-connect');
    assert.equal(connect?.target, 'connect.test:4433');
    assert.deepEqual(headerValues(connect!, 'X-SEEN'), ['in-a-connect']);
    const [upgrade] = headsOf(capture, 'http1-upgrade');
    assert.equal(upgrade?.target, '/ws/upgrade-target');
    assert.deepEqual(headerValues(upgrade!, 'upgrade'), ['x']);
    const responses = headsOf(capture, 'http1-response');
    assert.deepEqual(
      responses.map((r) => r.status),
      [200],
    );
  });

  test('a plain TCP server parses its heads natively: they are in head records, in no read', () => {
    assert.ok(!text(capture).includes('in-a-request'), 'the native parser read it, not JS');
    assert.ok(!text(capture).includes('in-a-connect'));
    // The request body does pass a JavaScript read.
    assert.ok(text(capture).includes('body-byte'));
  });

  test('the bytes behind a CONNECT or upgrade head are recorded on their stream', () => {
    const [connect] = headsOf(capture, 'http1-connect');
    const [upgrade] = headsOf(capture, 'http1-upgrade');
    assert.equal(capture.streams.get(connect!.stream!)?.bytes.toString(), 'early-after-connect');
    assert.equal(capture.streams.get(upgrade!.stream!)?.bytes.toString(), 'early-after-upgrade');
  });

  test('h2: request headers once per stream, the response, trailers; DATA as reads', () => {
    const requests = headsOf(capture, 'h2-request');
    assert.equal(requests.length, 1, 'the session and the server both emit it: recorded once');
    assert.equal(requests[0]?.method, 'POST');
    assert.equal(requests[0]?.target, '/h2-path');
    assert.deepEqual(headerValues(requests[0]!, 'x-seen'), ['in-h2']);
    const [response] = headsOf(capture, 'h2-response');
    assert.equal(response?.status, 200);
    assert.deepEqual(headerValues(response!, 'x-reply'), ['in-a-response']);
    assert.deepEqual(headerValues(headsOf(capture, 'h2-trailers')[0]!, 'x-trailer'), [
      'in-trailers',
    ]);
    const sources = [...capture.streams.values()].map((s) => `${s.source}:${s.bytes}`);
    assert.ok(sources.includes('ServerHttp2Stream:h2-body'), sources.join(' '));
    assert.ok(sources.includes('ClientHttp2Stream:h2-data'), sources.join(' '));
  });

  test('peers: every connection in and out, and UDP both ways, once each', () => {
    const tcpIn = capture.peers.filter((p) => p.transport === 'tcp' && p.direction === 'in');
    const tcpOut = capture.peers.filter((p) => p.transport === 'tcp' && p.direction === 'out');
    // Three HTTP/1.1 exchanges and one client request, one h2 session, one echo.
    assert.equal(tcpIn.length, 6);
    assert.equal(tcpOut.length, 6);
    for (const p of [...tcpIn, ...tcpOut]) assert.equal(p.remoteAddress, '127.0.0.1');
    const udp = capture.peers.filter((p) => p.transport === 'udp');
    assert.deepEqual(udp.map((p) => p.direction).sort(), ['in', 'out']);
    assert.equal(
      [...capture.streams.values()].find((s) => s.source === 'udp4')?.bytes.toString(),
      'a datagram',
    );
  });

  test('a read that spells a record stays a read; the end record closes the file', () => {
    assert.ok(text(capture).includes('[peer] "203.0.113.9:1"'));
    assert.ok(!capture.peers.some((p) => p.remoteAddress === '203.0.113.9'));
    assert.equal(capture.cut, false);
    assert.equal(capture.end?.recordedBytes, capture.readBytes);
    assert.equal(capture.end?.droppedBytes, 0);
  });

  test('the haystacks carry heads and reads to the leak search', () => {
    const found = (label: string, t: string) =>
      findLeaks(captureHaystacks(capture, 'x'), [{ kind: 'text', text: t, label }]).map(
        (f) => f.haystack,
      );
    assert.deepEqual(found('connect head', 'in-a-connect'), ['x head 1 http1-connect']);
    assert.ok(found('body', 'body-byte')[0]?.startsWith('x read IncomingMessage#'));
    // Both ends of the echo read it.
    assert.equal(found('fake', '203.0.113.9:1').length, 2);
    // The port search finds the CONNECT target's port in its head.
    const ports = findLeaks(captureHaystacks(capture), [{ kind: 'port', port: 4433 }]);
    assert.ok(ports.some((f) => f.haystack.includes('http1-connect')));
  });
});

test('a killed process leaves what was flushed before, without an end record', T, async () => {
  const file = join(dir, 'killed.capture');
  const run = await runTraffic(captureLaunch(file), 'kill', 600);
  assert.equal(run.code, null);
  const capture = await readCaptureFile(file);
  assert.equal(capture.end, undefined);
  assert.equal(headsOf(capture, 'http1-connect').length, 1);
  assert.ok(capture.readBytes > 0);
});

test('the size limit drops reads, never heads or peers, and says how much', T, async () => {
  const file = join(dir, 'limited.capture');
  const launch = captureLaunch(file);
  const run = await runTraffic(
    { nodeArgs: launch.nodeArgs, env: { ...launch.env, [CAPTURE_LIMIT_ENV]: '10' } },
    'exit',
  );
  assert.equal(run.code, 0);
  const capture = await readCaptureFile(file);
  assert.ok(capture.readBytes <= 10, `${capture.readBytes} bytes kept`);
  assert.ok((capture.end?.droppedBytes ?? 0) > 200);
  assert.equal(capture.heads.length, 8);
  assert.equal(capture.peers.length, 14);
});

test('without the variable the preload records nothing', T, async () => {
  const file = join(dir, 'never.capture');
  const run = await runTraffic({ nodeArgs: captureLaunch(file).nodeArgs, env: {} }, 'exit');
  assert.equal(run.code, 0);
  assert.equal(existsSync(file), false);
});

test('the DNS observer records a lookup by name, not an address literal', T, async () => {
  const out = join(dir, 'lookups.json');
  const launch = combineLaunches(dnsObserverLaunch(out), captureLaunch(join(dir, 'both')));
  assert.deepEqual(launch.nodeArgs, [
    '--import',
    DNS_OBSERVER_PRELOAD,
    '--import',
    launch.nodeArgs[3],
  ]);
  const res = spawnSync(
    process.execPath,
    [
      ...launch.nodeArgs,
      '-e',
      "const dns = require('node:dns'); dns.lookup('localhost', () => {}); dns.lookup('127.0.0.1', () => {})",
    ],
    { env: { ...process.env, ...launch.env }, encoding: 'utf8' },
  );
  assert.equal(res.status, 0, res.stderr);
  assert.deepEqual(await readLookups(out), ['lookup:localhost']);
});
