/**
 * The lab run on the default deployment (deploy/*.example.json as the operators' configs):
 * the real CLI, the whole scenario, every cell green, the report rendered by a real browser
 * with green cells and no red one, and nothing of the lab left after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARTIFACTS,
  have,
  isRoot,
  labIdOf,
  leftoversOf,
  readReport,
  redCells,
  runCli,
} from './helpers.ts';
import {
  CHROMIUM,
  FAIL_RED,
  PASS_GREEN,
  countColour,
  dumpDom,
  readPng,
  screenshot,
} from './browser.ts';
import { existsSync } from 'node:fs';

const skip = !isRoot
  ? 'the namespace lab needs root'
  : !have('tcpdump') || !have('ip') || !existsSync('/usr/sbin/nats-server')
    ? 'needs iproute2, tcpdump and nats-server (./run.sh test installs them)'
    : false;

test(
  'the lab audit of the default deployment is all green, and its page renders green',
  { skip, timeout: 300_000 },
  async () => {
    const evidence = mkdtempSync(join(tmpdir(), 'splitrelay-audit-test-'));
    try {
      const started = Date.now();
      const run = await runCli(['lab', '--evidence', evidence]);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
      assert.ok(run.reportHtml, run.stdout);
      console.log(`# lab audit: ${seconds.toFixed(1)} s`);
      const labId = labIdOf(run.stderr);
      assert.ok(labId);
      assert.deepEqual(leftoversOf(labId), [], 'the lab left nothing behind');

      const report = readReport(run.reportHtml);
      assert.equal(
        report.verdict,
        'pass',
        JSON.stringify(report.checks.filter((c) => c.result === 'fail')),
      );
      assert.deepEqual(redCells(report), []);
      assert.equal(report.privacyTable.cells.length, 15);
      for (const c of report.privacyTable.cells) {
        assert.equal(c.result, 'pass', `${c.party}/${c.property}: ${c.note}`);
        assert.ok(c.evidence.length > 0, `${c.party}/${c.property} has evidence`);
      }
      // The whole scenario ran; only the OHTTP hook and the rotation promise are not applicable.
      const na = report.checks
        .filter((c) => c.result === 'not-applicable')
        .map((c) => c.id)
        .sort();
      assert.deepEqual(na, ['egress-source-rotation', 'scenario-ohttp']);
      for (const id of [
        'scenario-bulk',
        'scenario-key-rotation',
        'scenario-egress-failover',
        'tls-post-quantum',
        'lab-trust-model',
      ])
        assert.equal(report.checks.find((c) => c.id === id)?.result, 'pass', id);
      // Every piece of evidence points at a file that exists in the evidence folder.
      const dir = run.reportHtml.replace(/\/report\.html$/, '');
      for (const e of report.evidence)
        assert.ok(existsSync(join(dir, e.file)), `evidence file ${e.file}`);
      // The Markdown says the same in words.
      assert.match(
        readFileSync(join(dir, 'report.md'), 'utf8'),
        /\*\*Verdict: PASS\*\* — 0 red cells;/,
      );

      if (!existsSync(CHROMIUM)) {
        console.log(
          '# chromium is not installed: the page was not rendered (./run.sh test installs it)',
        );
        return;
      }
      const dom = await dumpDom(run.reportHtml);
      assert.equal(
        (dom.match(/class="cell pass"/g) ?? []).length,
        15,
        'fifteen green cells in the parsed page',
      );
      assert.equal((dom.match(/class="cell fail"/g) ?? []).length, 0);
      assert.match(dom, /<p class="verdict pass" id="verdict">Verdict: PASS/);
      mkdirSync(ARTIFACTS, { recursive: true });
      const png = join(ARTIFACTS, 'lab-report.png');
      await screenshot(run.reportHtml, png);
      const image = readPng(png);
      const green = countColour(image, PASS_GREEN);
      assert.ok(green > 15 * 2000, `green cells painted (${green} px)`);
      assert.equal(countColour(image, FAIL_RED), 0, 'no red painted');
      console.log(`# screenshot ${png}: ${green} green pixels, no red`);
    } finally {
      rmSync(evidence, { recursive: true, force: true });
    }
  },
);
