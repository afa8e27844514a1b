/**
 * The negative controls: each deliberately leaky build, injected into the real apps of one
 * shared lab, must turn exactly its cells red, with evidence that names the leak (the file it
 * was found in, and what was found). A check that cannot fail would let one of these through.
 * One report is also rendered in a real browser, to see the red painted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTROLS,
  CONTROL_NAMES,
  openAuditLab,
  type AuditLab,
  type AuditOutcome,
  type ControlName,
} from '@splitrelay/audit';
import type { Report } from '@splitrelay/evidence';
import { ARTIFACTS, have, isRoot, leftoversOf, redCells } from './helpers.ts';
import { CHROMIUM, FAIL_RED, countColour, readPng, screenshot } from './browser.ts';

const skip = !isRoot
  ? 'the namespace lab needs root'
  : !have('tcpdump') || !have('ip') || !existsSync('/usr/sbin/nats-server')
    ? 'needs iproute2, tcpdump and nats-server (./run.sh test installs them)'
    : false;

/** What each control's evidence must show: where the leak was found, and what it was. */
const NAMES_THE_LEAK: Record<ControlName, { check: string; file: RegExp; note: RegExp }> = {
  'ingress-forwards-client-address': {
    check: 'egress-no-client',
    file: /observed\/egress\/egress-\d\.observed\.bin$/,
    note: /client address 192\.0\.2\.2/,
  },
  'client-resolves-locally': {
    check: 'client-resolver-no-target',
    file: /observed\/client-resolver\/queries\.jsonl$/,
    note: /target name/,
  },
  'client-names-target': {
    check: 'ingress-no-target',
    file: /observed\/ingress\/ingress\.observed\.bin$/,
    note: /target name/,
  },
  'publisher-puts-target': {
    check: 'control-plane-no-target',
    file: /observed\/control-plane\/messages\.jsonl$/,
    note: /target name/,
  },
  'egress-logs-peer': {
    check: 'egress-no-client',
    file: /processes\/egress-egress-\d(-\d+)?\.stdout\.log$/,
    note: /client address 192\.0\.2\.2/,
  },
  'ingress-passes-token': {
    check: 'egress-no-client',
    file: /observed\/egress\/egress-\d\.observed\.bin$/,
    note: /token \d+ (nonce|authenticator)/,
  },
  'issuer-records-nonce': {
    check: 'issuer-not-joinable',
    file: /(observed\/issuer\/issuer\.observed\.bin|processes\/issuer-issuer(-\d+)?\.stdout\.log)$/,
    note: /token \d+ nonce/,
  },
};

describe(
  'negative controls: each leaky build turns exactly its cells red',
  { skip, timeout: 600_000 },
  () => {
    let auditLab: AuditLab;
    let evidence: string;
    const outcomes = new Map<ControlName, AuditOutcome>();
    const started = Date.now();

    before(async () => {
      evidence = mkdtempSync(join(tmpdir(), 'splitrelay-controls-'));
      auditLab = await openAuditLab({ evidenceRoot: evidence });
      for (const name of CONTROL_NAMES)
        outcomes.set(name, await auditLab.run(name, { scenario: 'quick', controls: [name] }));
    });
    after(async () => {
      const id = auditLab?.lab.id;
      const closed = await auditLab?.close();
      console.log(
        `# ${CONTROL_NAMES.length} controls in one lab: ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      if (id) {
        assert.equal(closed?.ok, true);
        assert.deepEqual(leftoversOf(id), []);
      }
      rmSync(evidence, { recursive: true, force: true });
    });

    for (const name of CONTROL_NAMES) {
      test(`${name}: ${CONTROLS[name].description}`, () => {
        const out = outcomes.get(name)!;
        const report: Report = out.report;
        const expected = CONTROLS[name].red.map((c) => `${c.party}/${c.property}`).sort();
        assert.deepEqual(redCells(report), expected, 'exactly its cells are red');
        assert.equal(out.exitCode, 1);
        // The run itself worked: the traffic happened, so the green cells mean something.
        for (const id of [
          'scenario-https-pages',
          'scenario-udp-echo',
          'scenario-dns-through-relays',
          'client-reached-target',
          'egress-knows-target',
        ])
          assert.equal(report.checks.find((c) => c.id === id)?.result, 'pass', id);
        const leak = NAMES_THE_LEAK[name];
        const check = report.checks.find((c) => c.id === leak.check)!;
        assert.equal(check.result, 'fail', `${leak.check} failed`);
        const evidenceOf = report.evidence.filter((e) => check.evidence.includes(e.id));
        assert.ok(
          evidenceOf.some(
            (e) =>
              leak.file.test(e.file) &&
              leak.note.test(e.note ?? '') &&
              e.offset !== undefined &&
              (e.excerpt ?? '').length > 0,
          ),
          `evidence names the leak: ${JSON.stringify(evidenceOf.slice(0, 4))}`,
        );
        // Every red cell links to that evidence.
        for (const cell of report.privacyTable.cells.filter((c) => c.result === 'fail'))
          assert.ok(cell.evidence.length > 0, `${cell.party}/${cell.property} has evidence`);
      });
    }

    test(
      'a red cell is painted red in a real browser',
      { skip: existsSync(CHROMIUM) ? false : 'chromium is not installed' },
      async () => {
        const out = outcomes.get('client-names-target')!;
        mkdirSync(ARTIFACTS, { recursive: true });
        const png = join(ARTIFACTS, 'control-client-names-target.png');
        await screenshot(out.files.html, png);
        const red = countColour(readPng(png), FAIL_RED);
        assert.ok(red > 2000, `red painted (${red} px)`);
      },
    );
  },
);
