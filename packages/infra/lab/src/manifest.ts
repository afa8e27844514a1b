/**
 * The manifest: an append-only record of everything a lab creates, written BEFORE each thing
 * is created, so a harness killed at any instant leaves a list that covers whatever exists.
 * One JSON object per line in <run folder>/manifest.jsonl; a line cut short by a crash is
 * ignored when reading (the thing it announced is then found by name or by the environment
 * marker, see sweep.ts).
 *
 * The registry is a directory with one small file per live lab, <id>.json, pointing at its
 * manifest. It is the one place every harness on the machine writes, so a sweep can find a
 * lab's manifest from nothing but a namespace name. Default: /run/splitrelay-lab when root
 * (tmpfs, gone at reboot like the namespaces themselves), otherwise a per-user directory in the
 * temporary directory; SPLITRELAY_LAB_REGISTRY overrides both.
 */
import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessIdentity } from './proc.ts';
import type { Role } from './roles.ts';

export type ManifestRecord =
  | {
      readonly t: 'lab';
      readonly id: string;
      readonly mode: 'netns' | 'loopback';
      readonly owner: ProcessIdentity;
      readonly runDir: string;
      readonly createdAt: string;
    }
  | { readonly t: 'netns'; readonly name: string; readonly role: Role | 'router' }
  | {
      readonly t: 'link';
      readonly name: string;
      readonly netns: string;
      readonly peer: string;
      readonly peerNetns: string;
    }
  | { readonly t: 'path'; readonly path: string }
  | { readonly t: 'firewall'; readonly kind: 'nftables' | 'iptables'; readonly netns: string }
  | {
      readonly t: 'spawn';
      readonly role: Role | 'router';
      readonly name: string;
      readonly command: string;
    }
  | {
      readonly t: 'process';
      readonly pid: number;
      readonly startTime: number | undefined;
      readonly role: Role | 'router';
      readonly name: string;
    }
  | { readonly t: 'destroyed'; readonly at: string; readonly leftovers: readonly string[] }
  | { readonly t: 'swept'; readonly at: string; readonly by: ProcessIdentity };

const MANIFEST_FILE = 'manifest.jsonl';

export class Manifest {
  readonly path: string;

  constructor(runDir: string) {
    this.path = join(runDir, MANIFEST_FILE);
  }

  /** Synchronous on purpose: the record must be on disk before the next step starts. */
  append(record: ManifestRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  read(): ManifestRecord[] {
    return readManifest(this.path);
  }
}

export function readManifest(path: string): ManifestRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const records: ManifestRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as ManifestRecord);
    } catch {
      // A line cut short by a crash: what it announced is found by name instead.
    }
  }
  return records;
}

export interface RegistryEntry {
  readonly id: string;
  readonly manifest: string;
  readonly owner: ProcessIdentity;
}

export function defaultRegistryDir(): string {
  const fromEnv = process.env.SPLITRELAY_LAB_REGISTRY;
  if (fromEnv) return fromEnv;
  return process.getuid?.() === 0
    ? '/run/splitrelay-lab'
    : join(tmpdir(), `splitrelay-lab-${process.getuid?.() ?? 'user'}`);
}

export function writeRegistryEntry(dir: string, entry: RegistryEntry): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${entry.id}.json`);
  // Written whole or not at all: a reader never sees half an entry.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, file);
}

export function readRegistryEntry(dir: string, id: string): RegistryEntry | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as RegistryEntry;
  } catch {
    return undefined;
  }
}

export function removeRegistryEntry(dir: string, id: string): void {
  rmSync(join(dir, `${id}.json`), { force: true });
}
