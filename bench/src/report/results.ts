/** The JSON results file: everything measured, plus what is needed to reproduce it. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Round } from '../rounds.ts';
import type { MemoryPoint } from '../measure/memory-flows.ts';
import type { ProfileRun } from '../measure/profile.ts';
import type { BenchOptions } from '../options.ts';
import type { Machine } from './machine.ts';
import type { FigureSummary } from './summary.ts';
import { formatLikeRepo } from './prettier.ts';

export interface MemoryResults {
  /** Per contender, one point per count of idle flows. */
  readonly idleFlows: Record<string, MemoryPoint[]>;
  /** Per contender, one point per count of open client sessions. */
  readonly sessions: Record<string, MemoryPoint[]>;
  readonly notes: string[];
}

export interface Results {
  readonly date: string;
  readonly command: string;
  readonly machine: Machine;
  readonly options: BenchOptions;
  readonly fdLimit: { soft: number; hard: number };
  readonly contenders: { id: string; label: string; command?: string }[];
  readonly rounds: Round[];
  readonly summary: Record<string, FigureSummary>;
  readonly memory?: MemoryResults;
  readonly profile?: ProfileRun;
  readonly durationSeconds: number;
  readonly phases: Record<string, number>;
}

export async function writeResults(file: string, results: Results): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // NaN and Infinity are not JSON: they become null.
  const json = JSON.stringify(
    results,
    (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
  await writeFile(file, await formatLikeRepo(file, `${json}\n`));
}
