/**
 * The analysis on hand-made evidence folders: a run where nothing happened is not green
 * (the positive checks fail), a leak in a log turns exactly its cell red with the file and
 * offset, and 4 raw address bytes inside ciphertext are not taken for a leak.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '@splitrelay/evidence';
import { analyzeRun, generateCanaries, type RunRecord } from '../src/index.ts';

let counter = 7;
const canaries = generateCanaries({
  rng: (n) => Uint8Array.from({ length: n }, () => (counter = (counter * 73 + 41) % 251)),
  targetV4Candidates: ['203.0.113.9'],
});

function folder(
  files: Record<string, string | Uint8Array>,
  extra: Partial<RunRecord> = {},
): { dir: string; record: RunRecord } {
  const dir = mkdtempSync(join(tmpdir(), 'audit-analysis-'));
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
  const record: RunRecord = {
    version: 1,
    mode: 'lab',
    labMode: 'netns',
    title: 'test',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
    canaries,
    addresses: {
      client: ['192.0.2.2'],
      ingress: ['198.51.100.2'],
      egress: { 'egress-1': ['198.51.100.18'] },
      issuer: ['198.51.100.34'],
      nats: ['198.51.100.50'],
      target: [canaries.targetV4],
      clientResolver: ['203.0.113.18'],
    },
    credential: 'the-subscriber-credential',
    captures: [],
    observations: [
      { party: 'ingress', instance: 'ingress', file: 'ingress.bin' },
      { party: 'egress', instance: 'egress-1', file: 'egress.bin' },
    ],
    logs: [
      { party: 'ingress', instance: 'ingress', file: 'ingress.log' },
      { party: 'egress', instance: 'egress-1', file: 'egress.log' },
    ],
    sockets: [],
    window: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:01:00.000Z' },
    controlPlane: 'messages.jsonl',
    clientResolver: 'queries.jsonl',
    driver: 'driver.jsonl',
    steps: [],
    overrides: [],
    limitations: [],
    controls: [],
    rotation: { promised: false, why: 'none promised' },
    ...extra,
  };
  return { dir, record };
}

const cell = (r: ReturnType<typeof buildReport>, p: string, q: string) =>
  r.privacyTable.cells.find((c) => c.party === p && c.property === q)!;

test('a run where nothing happened is not green: its positive checks fail', () => {
  const { dir, record } = folder({});
  try {
    const report = buildReport(analyzeRun(dir, record));
    assert.equal(report.verdict, 'fail');
    for (const id of [
      'client-reached-target',
      'ingress-knows-client',
      'egress-knows-target',
      'control-plane-observed',
    ])
      assert.equal(report.checks.find((c) => c.id === id)?.result, 'fail', id);
    assert.equal(cell(report, 'client', 'knows-destination').result, 'fail');
    // With no file to search, absence is not proven either.
    assert.equal(cell(report, 'ingress', 'knows-destination').result, 'cannot-prove-from-outside');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a target address in an ingress log turns exactly ingress/knows-destination red, with its offset', () => {
  const line = `{"level":30,"event":"flow","dst":"${canaries.targetV4}"}\n`;
  const ingressLog = `{"level":30,"event":"ready"}\n${line}`;
  // Ciphertext that happens to hold the target's 4 raw bytes: not a leak of anything.
  const raw = Buffer.concat([
    Buffer.alloc(100, 0x55),
    Buffer.from(canaries.targetV4.split('.').map(Number)),
    Buffer.alloc(100, 0x33),
  ]);
  const egress = `\n[peer] "198.51.100.2:4000"\n[h2 stream] {":authority":"${canaries.targetName}:${canaries.httpsPort}"}\n`;
  const { dir, record } = folder({
    'ingress.bin': Buffer.concat([Buffer.from('\n[peer] "192.0.2.2:40000"\n'), raw]),
    'ingress.log': ingressLog,
    'egress.bin': egress,
    'egress.log': '',
    'messages.jsonl': '{"subject":"splitrelay.health.egress.egress-1","text":"{}"}\n',
    'queries.jsonl': '',
    'driver.jsonl': `${JSON.stringify({ op: 'https', ok: true, body: `<p>${canaries.page}</p>` })}\n`,
  });
  try {
    const report = buildReport(analyzeRun(dir, record));
    const red = report.privacyTable.cells
      .filter((c) => c.result === 'fail')
      .map((c) => `${c.party}/${c.property}`);
    // The issuer has no evidence in this folder (its positive check fails): only the leak and that.
    assert.ok(red.includes('ingress/knows-destination'));
    assert.ok(
      !red.includes('egress/knows-source') && !red.includes('control-plane/knows-destination'),
    );
    const check = report.checks.find((c) => c.id === 'ingress-no-target')!;
    assert.equal(check.result, 'fail');
    const ev = report.evidence.filter((e) => check.evidence.includes(e.id));
    assert.deepEqual(
      ev.map((e) => [e.file, e.offset]),
      [['ingress.log', ingressLog.indexOf(canaries.targetV4)]],
      'one finding: the log line, not the raw bytes in ciphertext',
    );
    assert.match(ev[0]!.excerpt ?? '', /"dst":"203\.0\.113\.9"/);
    assert.equal(
      cell(report, 'egress', 'knows-destination').result,
      'pass',
      'the egress saw the target, as it must',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
