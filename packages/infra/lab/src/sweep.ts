/**
 * sweepLabs(): removes what crashed labs left behind, and only that. A lab is live while the
 * process its manifest names as owner (pid and start time) is alive; everything else carrying
 * a lab name is an orphan. Where leftovers are found:
 *
 *   the registry            <registry>/<id>.json → the manifest
 *   network namespaces      sra-<6 hex>-<role>   → the lab id → the registry → the manifest
 *   host links              sra<6 hex>-<code>    → the lab id
 *   /etc/netns directories  sra-<6 hex>-<role>   → the lab id
 *   processes               SPLITRELAY_LAB=<id> and SPLITRELAY_LAB_MANIFEST=<path> in their
 *                           environment, so even a process outside any namespace is traced
 *                           to its manifest
 *
 * A lab found by name with no manifest anywhere is an orphan too: a harness registers its lab
 * before it creates anything. An orphan's processes are ended (SIGTERM, then SIGKILL), then its
 * namespaces, links and directories removed, its manifest marked "swept" and its registry entry
 * deleted.
 *
 * CLI: node packages/infra/lab/src/sweep.ts [--dry-run] [--json]
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  defaultRegistryDir,
  readManifest,
  readRegistryEntry,
  removeRegistryEntry,
  type ManifestRecord,
} from './manifest.ts';
import { ETC_NETNS } from './topology.ts';
import { LAB_ID_ENV, LAB_ID_PATTERN, LAB_MANIFEST_ENV, labOfIfname, labOfNetns } from './names.ts';
import { environValue, isAlive, listPids, self, type ProcessIdentity } from './proc.ts';
import { cleanLab, listHostLinks, listNetns, type CleanupResult } from './teardown.ts';
import { appendFileSync } from 'node:fs';

export interface SweepOptions {
  readonly registryDir?: string;
  /** Report what would be removed, remove nothing. */
  readonly dryRun?: boolean;
  /** Between SIGTERM and SIGKILL for an orphan's processes (default 2000 ms). */
  readonly graceMs?: number;
}

export interface SweptLab {
  readonly id: string;
  /** 'live': owned by a running harness, left alone. */
  readonly state: 'live' | 'orphan';
  readonly manifest: string | undefined;
  readonly owner: ProcessIdentity | undefined;
  /** For orphans when not a dry run. */
  readonly cleanup?: CleanupResult;
}

export interface SweepReport {
  readonly labs: readonly SweptLab[];
  /** Orphans whose cleanup left something behind. */
  readonly leftovers: readonly string[];
}

export async function sweepLabs(options: SweepOptions = {}): Promise<SweepReport> {
  const registryDir = options.registryDir ?? defaultRegistryDir();
  const manifests = new Map<string, string | undefined>();
  const note = (id: string, manifest?: string): void => {
    if (!manifests.get(id)) manifests.set(id, manifest);
  };

  for (const entry of safeReaddir(registryDir)) {
    const id = entry.replace(/\.json$/, '');
    if (!LAB_ID_PATTERN.test(id)) continue;
    note(id, readRegistryEntry(registryDir, id)?.manifest);
  }
  for (const ns of listNetns()) {
    const id = labOfNetns(ns);
    if (id) note(id, readRegistryEntry(registryDir, id)?.manifest);
  }
  for (const link of listHostLinks()) {
    const id = labOfIfname(link);
    if (id) note(id, readRegistryEntry(registryDir, id)?.manifest);
  }
  for (const dir of safeReaddir(ETC_NETNS)) {
    const id = labOfNetns(dir);
    if (id) note(id, readRegistryEntry(registryDir, id)?.manifest);
  }
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const id = environValue(pid, LAB_ID_ENV);
    if (id && LAB_ID_PATTERN.test(id)) note(id, environValue(pid, LAB_MANIFEST_ENV));
  }

  const labs: SweptLab[] = [];
  const leftovers: string[] = [];
  for (const [id, manifestPath] of manifests) {
    const records = manifestPath ? readManifest(manifestPath) : [];
    const owner = ownerOf(records);
    if (owner && isAlive(owner) && !records.some((r) => r.t === 'destroyed')) {
      labs.push({ id, state: 'live', manifest: manifestPath, owner });
      continue;
    }
    if (options.dryRun) {
      labs.push({ id, state: 'orphan', manifest: manifestPath, owner });
      continue;
    }
    const cleanup = await cleanLab(id, records, options.graceMs ?? 2_000);
    if (manifestPath && records.length > 0) {
      try {
        appendFileSync(
          manifestPath,
          `${JSON.stringify({ t: 'swept', at: new Date().toISOString(), by: self() })}\n`,
        );
      } catch {
        // The run folder was removed; the kernel objects are what matter.
      }
    }
    if (cleanup.leftovers.length === 0) removeRegistryEntry(registryDir, id);
    leftovers.push(...cleanup.leftovers.map((l) => `${id}: ${l}`));
    labs.push({ id, state: 'orphan', manifest: manifestPath, owner, cleanup });
  }
  return { labs, leftovers };
}

function ownerOf(records: readonly ManifestRecord[]): ProcessIdentity | undefined {
  for (const r of records) if (r.t === 'lab') return r.owner;
  return undefined;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const dryRun = argv.includes('--dry-run');
  const json = argv.includes('--json');
  const report = await sweepLabs({ dryRun });
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const lab of report.labs) {
      if (lab.state === 'live') {
        console.log(`${lab.id}: live (owner pid ${lab.owner?.pid}), left alone`);
      } else if (!lab.cleanup) {
        console.log(`${lab.id}: orphan, would be removed`);
      } else {
        const c = lab.cleanup;
        console.log(
          `${lab.id}: swept (${c.processesEnded} processes, ${c.namespacesRemoved.length} namespaces, ` +
            `${c.linksRemoved.length} host links, ${c.pathsRemoved.length} paths)`,
        );
      }
    }
    if (report.labs.length === 0) console.log('no lab leftovers');
    for (const l of report.leftovers) console.error(`left behind: ${l}`);
  }
  return report.leftovers.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
