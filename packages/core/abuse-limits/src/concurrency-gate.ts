/**
 * Concurrent holders per key, with a cap: a session (or flow) acquires a slot when it opens
 * and releases it when it ends. Memory follows the holders: a key whose last holder left is
 * forgotten, so at most `total` keys are ever remembered.
 */

export interface ConcurrencyGateOptions {
  /** Holders per key at most (a non-negative integer, or Infinity for no cap). */
  readonly limit: number;
}

export class ConcurrencyGate {
  readonly #limit: number;
  readonly #active = new Map<string, number>();
  #total = 0;

  constructor(options: ConcurrencyGateOptions) {
    const { limit } = options;
    if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0)))
      throw new RangeError('limit must be a non-negative integer or Infinity');
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Holders across every key. */
  get total(): number {
    return this.#total;
  }

  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }

  /**
   * A slot for `key`, or undefined when it already has `limit` holders. The returned release
   * may be called any number of times (from 'close' and 'error' alike): only the first counts.
   */
  tryAcquire(key: string): (() => void) | undefined {
    const held = this.active(key);
    if (held >= this.#limit) return undefined;
    this.#active.set(key, held + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = this.active(key) - 1;
      if (left > 0) this.#active.set(key, left);
      else this.#active.delete(key);
    };
  }
}
