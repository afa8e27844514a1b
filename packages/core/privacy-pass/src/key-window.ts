/**
 * The validity window of a token key, the same rule for the issuer (which key issues), the
 * ingress (which key redeems) and the control plane (which announced keys count): a key is
 * valid from `notBefore` (inclusive) to `notAfter` (exclusive), in unix seconds. During a
 * rotation windows overlap, and the newest key (latest `notBefore`) is the preferred one.
 */

export interface KeyWindow {
  /** Unix seconds, inclusive. */
  readonly notBefore: number;
  /** Unix seconds, exclusive. */
  readonly notAfter: number;
}

export function isValidAt(window: KeyWindow, nowSeconds: number): boolean {
  return window.notBefore <= nowSeconds && nowSeconds < window.notAfter;
}

export function windowsOverlap(a: KeyWindow, b: KeyWindow): boolean {
  return a.notBefore < b.notAfter && b.notBefore < a.notAfter;
}

/** Newest first (latest notBefore; then the one that ends first), the order of preference. */
export function byPreference(a: KeyWindow, b: KeyWindow): number {
  return b.notBefore - a.notBefore || a.notAfter - b.notAfter;
}

/** The preferred window valid at `nowSeconds`, or undefined. */
export function preferredAt<K extends KeyWindow>(
  keys: Iterable<K>,
  nowSeconds: number,
): K | undefined {
  let best: K | undefined;
  for (const k of keys) {
    if (!isValidAt(k, nowSeconds)) continue;
    if (best === undefined || byPreference(k, best) < 0) best = k;
  }
  return best;
}
