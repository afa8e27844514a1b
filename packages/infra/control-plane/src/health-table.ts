/**
 * What a relay knows about its peers' health, from their heartbeats. Pure: time is passed
 * in. Expiry runs on the receiver's clock (receipt time + ttl) so that operators' clocks need
 * not agree; `sentAt` (the sender's clock) only orders one sender's heartbeats, so a
 * reordered or replayed older heartbeat cannot overwrite a newer one.
 */
import type { Health } from './schemas.ts';

export type HealthStatus = 'up' | 'draining' | 'down' | 'unknown';

export interface HealthTableOptions {
  /** A claimed ttl is clamped to [minTtlMs, maxTtlMs]; default 1 ms and 60 s. */
  readonly minTtlMs?: number;
  readonly maxTtlMs?: number;
}

export interface HealthView {
  readonly id: string;
  readonly status: HealthStatus;
  readonly load: number;
  readonly sessions: number;
  readonly capacity: number;
  /** The sender's clock, unix ms. */
  readonly sentAt: number;
  /** Receiver's clock, unix ms: when the last heartbeat arrived. */
  readonly receivedAtMs: number;
  /** Receiver's clock, unix ms: from then on the peer is 'down' unless it speaks again. */
  readonly expiresAtMs: number;
}

interface HeldHeartbeat {
  readonly message: Health;
  readonly receivedAtMs: number;
  readonly expiresAtMs: number;
}

export const DEFAULT_MAX_TTL_MS = 60_000;

export class HealthTable {
  readonly #records = new Map<string, HeldHeartbeat>();
  readonly #minTtlMs: number;
  readonly #maxTtlMs: number;

  constructor(options: HealthTableOptions = {}) {
    this.#minTtlMs = options.minTtlMs ?? 1;
    this.#maxTtlMs = options.maxTtlMs ?? DEFAULT_MAX_TTL_MS;
    if (!(this.#minTtlMs > 0 && this.#minTtlMs <= this.#maxTtlMs)) {
      throw new TypeError('HealthTable needs 0 < minTtlMs <= maxTtlMs');
    }
  }

  /**
   * Records a (schema-valid) heartbeat received at `nowMs`. Returns false when it is not
   * newer than the one held. Once the held one has expired any heartbeat is taken, so a
   * sender whose clock went back is 'down' for one ttl at most, not for ever.
   */
  update(message: Health, nowMs: number): boolean {
    checkTime(nowMs);
    const prior = this.#records.get(message.id);
    if (
      prior !== undefined &&
      nowMs < prior.expiresAtMs &&
      message.sentAt <= prior.message.sentAt
    ) {
      return false;
    }
    const ttl = Math.min(this.#maxTtlMs, Math.max(this.#minTtlMs, message.ttlMs));
    this.#records.set(message.id, { message, receivedAtMs: nowMs, expiresAtMs: nowMs + ttl });
    return true;
  }

  status(id: string, nowMs: number): HealthStatus {
    checkTime(nowMs);
    const record = this.#records.get(id);
    if (record === undefined) return 'unknown';
    return nowMs >= record.expiresAtMs ? 'down' : record.message.status;
  }

  get(id: string, nowMs: number): HealthView | undefined {
    const record = this.#records.get(id);
    return record === undefined ? undefined : view(record, this.status(id, nowMs));
  }

  /** Every known peer, sorted by id. Peers that went down stay listed as 'down'. */
  snapshot(nowMs: number): HealthView[] {
    checkTime(nowMs);
    return [...this.#records.keys()]
      .sort()
      .map((id) => view(this.#records.get(id) as HeldHeartbeat, this.status(id, nowMs)));
  }

  /** Forgets peers down for longer than `graceMs` (they read as 'unknown' again). */
  prune(nowMs: number, graceMs: number): string[] {
    checkTime(nowMs);
    const gone: string[] = [];
    for (const [id, record] of this.#records) {
      if (nowMs >= record.expiresAtMs + graceMs) {
        this.#records.delete(id);
        gone.push(id);
      }
    }
    return gone;
  }

  get size(): number {
    return this.#records.size;
  }
}

function view(record: HeldHeartbeat, status: HealthStatus): HealthView {
  const { id, load, sessions, capacity, sentAt } = record.message;
  return {
    id,
    status,
    load,
    sessions,
    capacity,
    sentAt,
    receivedAtMs: record.receivedAtMs,
    expiresAtMs: record.expiresAtMs,
  };
}

function checkTime(nowMs: number): void {
  if (!Number.isFinite(nowMs)) throw new TypeError('nowMs must be finite unix milliseconds');
}
