/**
 * Removing what a lab left in the kernel and on disk, given its id and whatever its manifest
 * says. Shared by `destroy()` and the sweep, and synchronous so it can also run in an exit
 * hook. Order matters: processes first (a namespace with processes in it outlives its name),
 * then namespaces (their veths go with them), then the files beside them.
 *
 * Names found by prefix count as much as names in the manifest: a record the crash cut short
 * must not leave its namespace behind.
 */
import { readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary, runSync } from './commands.ts';
import { endLabProcesses, endLabProcessesSync, findLabProcesses } from './lab-processes.ts';
import type { ManifestRecord } from './manifest.ts';
import { labOfIfname, labOfNetns } from './names.ts';
import { namedNetnsInode, type ProcessIdentity } from './proc.ts';
import { ETC_NETNS } from './topology.ts';

export interface CleanupResult {
  /** Lab processes that had to be ended. */
  readonly processesEnded: number;
  readonly namespacesRemoved: readonly string[];
  readonly linksRemoved: readonly string[];
  readonly pathsRemoved: readonly string[];
  /** What is still there afterwards, in words (empty when the cleanup is complete). */
  readonly leftovers: readonly string[];
}

function labNamespaces(id: string, records: readonly ManifestRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records) if (r.t === 'netns') names.add(r.name);
  for (const name of listNetns()) if (labOfNetns(name) === id) names.add(name);
  return [...names].filter((n) => namedNetnsInode(n) !== undefined);
}

function processQuery(id: string, records: readonly ManifestRecord[]): () => ProcessIdentity[] {
  const recorded: ProcessIdentity[] = [];
  for (const r of records)
    if (r.t === 'process') recorded.push({ pid: r.pid, startTime: r.startTime });
  // Taken once, before any namespace goes: afterwards the names no longer lead to the inodes.
  const netnsInodes = labNamespaces(id, records)
    .map(namedNetnsInode)
    .filter((i): i is number => i !== undefined);
  return () => findLabProcesses({ id, netnsInodes, recorded });
}

export async function cleanLab(
  id: string,
  records: readonly ManifestRecord[],
  graceMs: number,
): Promise<CleanupResult> {
  const find = processQuery(id, records);
  const before = find().length;
  const left = await endLabProcesses(find, graceMs);
  return removeKernelObjects(id, records, before, left);
}

export function cleanLabSync(
  id: string,
  records: readonly ManifestRecord[],
  graceMs: number,
): CleanupResult {
  const find = processQuery(id, records);
  const before = find().length;
  const left = endLabProcessesSync(find, graceMs);
  return removeKernelObjects(id, records, before, left);
}

function removeKernelObjects(
  id: string,
  records: readonly ManifestRecord[],
  processesEnded: number,
  processesLeft: readonly ProcessIdentity[],
): CleanupResult {
  const namespacesRemoved: string[] = [];
  const linksRemoved: string[] = [];
  const pathsRemoved: string[] = [];
  const haveIp = findBinary('ip') !== undefined;
  if (haveIp) {
    for (const ns of labNamespaces(id, records)) {
      runSync('ip', ['netns', 'del', ns], { allowFailure: true });
      namespacesRemoved.push(ns);
    }
    // Only an older or interrupted build could leave a lab veth in the host namespace.
    for (const name of listHostLinks()) {
      if (labOfIfname(name) !== id) continue;
      runSync('ip', ['link', 'del', name], { allowFailure: true });
      linksRemoved.push(name);
    }
  }
  const paths = new Set<string>();
  for (const r of records) if (r.t === 'path' && isLabPath(r.path, id)) paths.add(r.path);
  for (const entry of safeReaddir(ETC_NETNS)) {
    if (labOfNetns(entry) === id) paths.add(join(ETC_NETNS, entry));
  }
  for (const path of paths) {
    if (!existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    pathsRemoved.push(path);
  }

  const leftovers: string[] = processesLeft.map((p) => `process ${p.pid} still running`);
  if (haveIp) {
    for (const ns of listNetns()) if (labOfNetns(ns) === id) leftovers.push(`namespace ${ns}`);
    for (const l of listHostLinks()) if (labOfIfname(l) === id) leftovers.push(`link ${l}`);
  }
  for (const path of paths) if (existsSync(path)) leftovers.push(`path ${path}`);
  return { processesEnded, namespacesRemoved, linksRemoved, pathsRemoved, leftovers };
}

/** A path the lab may delete: only its own directories under /etc/netns. */
function isLabPath(path: string, id: string): boolean {
  const prefix = `${ETC_NETNS}/`;
  return path.startsWith(prefix) && labOfNetns(path.slice(prefix.length)) === id;
}

export function listNetns(): string[] {
  if (findBinary('ip') === undefined) return [];
  const out = runSync('ip', ['netns', 'list'], { allowFailure: true }).stdout;
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export function listHostLinks(): string[] {
  if (findBinary('ip') === undefined) return [];
  const out = runSync('ip', ['-j', 'link', 'show'], { allowFailure: true }).stdout;
  try {
    return (JSON.parse(out || '[]') as { ifname?: string }[])
      .map((l) => l.ifname ?? '')
      .filter(Boolean);
  } catch {
    return [];
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
