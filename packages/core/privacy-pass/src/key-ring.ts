/**
 * The issuer keys an ingress redeems tokens for. Keys arrive from the issuer over the ingress
 * operator's own control-plane account (or from the config), each with a validity window.
 */
import { base64url, fromBase64url } from './base64url.ts';
import { isValidAt, preferredAt, type KeyWindow } from './key-window.ts';
import { importTokenKey, type TokenKey } from './token-key.ts';

/** A token key as announced or configured: base64url of its SPKI, and its window. */
export interface KeyAnnouncement extends KeyWindow {
  readonly tokenKey: string;
}

export interface RingKey extends KeyWindow {
  readonly key: TokenKey;
}

export type KeyLookup =
  { readonly found: RingKey } | { readonly refused: 'unknown token key' | 'expired token key' };

export class TokenKeyRing {
  /** Keys from the config: they stand for the life of the process. */
  readonly #configured = new Map<string, RingKey>();
  /** Each issuer's latest announcement replaces its previous one (so a key can be withdrawn). */
  readonly #announced = new Map<string, { sentAt: number; keys: Map<string, RingKey> }>();
  readonly #maxLifetimeSeconds: number;

  /**
   * `maxLifetimeSeconds` is how long the spent-token store remembers a nonce: a key living
   * longer would let a token be replayed once its record expired, so such keys are refused.
   */
  constructor(maxLifetimeSeconds: number) {
    this.#maxLifetimeSeconds = maxLifetimeSeconds;
  }

  /** Adds configured keys; returns why any was refused (for the log). */
  add(keys: readonly KeyAnnouncement[]): string[] {
    const { accepted, problems } = this.#admit(keys);
    for (const [id, k] of accepted) this.#configured.set(id, k);
    return problems;
  }

  /**
   * An issuer's announcement (over NATS): its keys replace the ones it announced before. An
   * older or replayed announcement changes nothing. While NATS is silent the last one stands
   * (fail static); each key still ends at its own notAfter.
   */
  announce(issuerId: string, sentAt: number, keys: readonly KeyAnnouncement[]): string[] {
    const previous = this.#announced.get(issuerId);
    if (previous !== undefined && sentAt <= previous.sentAt) return [];
    const { accepted, problems } = this.#admit(keys);
    this.#announced.set(issuerId, { sentAt, keys: accepted });
    return problems;
  }

  #admit(keys: readonly KeyAnnouncement[]): { accepted: Map<string, RingKey>; problems: string[] } {
    const accepted = new Map<string, RingKey>();
    const problems: string[] = [];
    for (const a of keys) {
      if (!(a.notAfter > a.notBefore)) {
        problems.push('key window is empty');
        continue;
      }
      if (a.notAfter - a.notBefore > this.#maxLifetimeSeconds) {
        problems.push('key outlives the spent-token store');
        continue;
      }
      let key: TokenKey;
      try {
        key = importTokenKey(fromBase64url(a.tokenKey));
      } catch {
        problems.push('not a Blind RSA 2048 token key');
        continue;
      }
      accepted.set(Buffer.from(key.id).toString('hex'), {
        key,
        notBefore: a.notBefore,
        notAfter: a.notAfter,
      });
    }
    return { accepted, problems };
  }

  *#all(): Iterable<RingKey> {
    yield* this.#configured.values();
    for (const a of this.#announced.values()) yield* a.keys.values();
  }

  lookup(tokenKeyId: Uint8Array, nowSeconds: number): KeyLookup {
    const id = Buffer.from(tokenKeyId).toString('hex');
    let k = this.#configured.get(id);
    for (const a of this.#announced.values()) k ??= a.keys.get(id);
    if (k === undefined) return { refused: 'unknown token key' };
    if (!isValidAt(k, nowSeconds)) return { refused: 'expired token key' };
    return { found: k };
  }

  /** The key challenges name: the newest one valid now (clients fetch tokens for it). */
  current(nowSeconds: number): RingKey | undefined {
    return preferredAt(this.#all(), nowSeconds);
  }

  /** For health: the windows of the keys held, by base64url key id prefix. */
  snapshot(): { id: string; notBefore: number; notAfter: number }[] {
    return [...this.#all()].map((k) => ({
      id: base64url(k.key.id).slice(0, 11),
      notBefore: k.notBefore,
      notAfter: k.notAfter,
    }));
  }

  get size(): number {
    return [...this.#all()].length;
  }
}
