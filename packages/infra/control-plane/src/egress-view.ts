/**
 * What the ingress knows of the egresses: verified directory entries (from the signed file,
 * the control plane, or both) and their health. It decides whether a tunnel may go to an
 * egress, and what clients are told, and it fails static: while the control plane is
 * unreachable, the last verified state stands until its entries expire, and heartbeats that
 * merely stopped arriving do not take egresses down.
 */
import {
  DirectoryStore,
  type DirectoryFile,
  type Entry,
  type TrustedKeys,
} from '@splitrelay/directory';
import { HealthTable, type HealthStatus } from './health-table.ts';
import type { Health } from './schemas.ts';
import { RelayError } from '@splitrelay/errors';

export type ControlPlaneState = 'static' | 'ok' | 'stale';

export class EgressView {
  readonly #directory = new DirectoryStore();
  readonly #health = new HealthTable();
  readonly #keys: TrustedKeys;
  readonly #now: () => number;
  #state: ControlPlaneState = 'static';
  /** While stale (and for one grace period after), health is read as of this instant. */
  #frozenAtMs: number | undefined;
  #thawUntilMs = 0;
  readonly #graceMs: number;

  constructor(keys: TrustedKeys, options: { now?: () => number; graceMs?: number } = {}) {
    this.#keys = keys;
    this.#now = options.now ?? Date.now;
    this.#graceMs = options.graceMs ?? 10_000;
  }

  get state(): ControlPlaneState {
    return this.#state;
  }

  /** Connected: fresh heartbeats flow again, but give them a grace period to arrive. */
  connected(): void {
    this.#state = 'ok';
    this.#thawUntilMs = this.#now() + this.#graceMs;
  }

  disconnected(): void {
    this.#state = 'stale';
    this.#frozenAtMs ??= this.#now();
  }

  applyEntry(signed: unknown, subjectId?: string): { accepted: boolean; reason?: string } {
    const result = this.#directory.apply(
      signed,
      this.#keys,
      Math.floor(this.#now() / 1000),
      subjectId,
    );
    return result.accepted ? { accepted: true } : { accepted: false, reason: result.reason };
  }

  applyHealth(message: Health): void {
    this.#health.update(message, this.#now());
  }

  entries(): Map<string, Entry> {
    return this.#directory.entries(Math.floor(this.#now() / 1000));
  }

  /** The signed entries exactly as their operator signed them, for clients to verify. */
  directoryFile(): DirectoryFile {
    return this.#directory.toFile(Math.floor(this.#now() / 1000));
  }

  health(id: string): HealthStatus {
    const now = this.#now();
    if (this.#state === 'ok' && this.#frozenAtMs !== undefined && now >= this.#thawUntilMs)
      this.#frozenAtMs = undefined;
    const status = this.#health.status(id, now);
    if (status !== 'down' || this.#frozenAtMs === undefined) return status;
    // Down only because heartbeats could not arrive: report what was known at the freeze.
    return this.#health.status(id, this.#frozenAtMs);
  }

  healthSnapshot(): Record<string, HealthStatus> {
    return Object.fromEntries([...this.entries().keys()].map((id) => [id, this.health(id)]));
  }

  /** The entry a tunnel may use, or the refusal the client gets. */
  admit(egressId: string): Entry {
    const entry = this.entries().get(egressId);
    if (!entry) throw new RelayError('unknown-egress', 'no such egress in the directory');
    const status = this.health(egressId);
    if (status === 'down') throw new RelayError('egress-down', 'egress is down; try another');
    if (status === 'draining')
      throw new RelayError('egress-down', 'egress is draining; try another');
    return entry;
  }
}
