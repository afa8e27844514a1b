/**
 * An evidence folder in, the report's input out: the checks, the cells they decide, and the
 * notes a reader must see (what the lab changed in the operator's settings, in what way the
 * evidence is weaker, which leaky builds were injected).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckInput, ReportInput, ReportNote } from '@splitrelay/evidence';
import { redactOverrides } from '../operator-config.ts';
import type { RunRecord } from '../run-record.ts';
import { buildCells } from './cells.ts';
import { buildChecks } from './checks.ts';
import { evidenceFiles } from './loader.ts';

export function readRunRecord(dir: string): RunRecord {
  return JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
}

export function analyzeRun(
  dir: string,
  record: RunRecord = readRunRecord(dir),
  now: () => Date = () => new Date(),
): ReportInput {
  const checks = buildChecks({ record, files: evidenceFiles(dir) });
  const cells = buildCells(checks);
  const notes: ReportNote[] = [];
  if (record.controls.length > 0)
    notes.push({
      title: 'Negative controls injected',
      items: record.controls.map(
        (c) => `${c}: a deliberately leaky build, so this run must show its leak`,
      ),
    });
  if (record.limitations.length > 0)
    notes.push({ title: 'Limitations of this evidence', items: [...record.limitations] });
  notes.push({
    title: record.mode === 'lab' ? 'Settings the lab changed in the operator configs' : 'Settings',
    items:
      record.overrides.length === 0
        ? ['none']
        : redactOverrides(record.overrides).map(
            (o) =>
              `${o.app} ${o.key}: ${o.operator === undefined ? 'unset' : JSON.stringify(o.operator)} → ${JSON.stringify(o.lab)} (${o.reason})`,
          ),
  });
  notes.push({
    title: 'Canaries of this run',
    items: [
      `target ${record.canaries.targetName} at ${[record.canaries.targetV4, record.canaries.targetV6].filter(Boolean).join(', ')}`,
      `ports: HTTPS ${record.canaries.httpsPort}, UDP echo ${record.canaries.udpPort}, DNS ${record.canaries.dnsPort}`,
      `DNS question ${record.canaries.dnsQuestion}; payload markers tagged ${record.canaries.tag}`,
    ],
  });
  const plain: CheckInput[] = checks.map(({ facets: _facets, ...rest }) => rest);
  return {
    title: `SplitRelay separation audit (${record.mode}${record.labMode ? `, ${record.labMode}` : ''})`,
    generatedAt: now(),
    subject: `run ${record.canaries.tag}, ${record.startedAt} to ${record.endedAt}; evidence paths are relative to this report's folder`,
    cells,
    checks: plain,
    notes,
  };
}
