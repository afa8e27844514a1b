/**
 * Loaded into an egress with `node --import`, this breaks its source-address draws on
 * purpose, for the negative controls of test/e2e/egress-addresses.test.ts: the statistical
 * tests must catch an egress that maps sessions to addresses instead of drawing them.
 *
 *   SPLITRELAY_STICKY_DRAW=constant   every draw gets the same bytes: one address for all
 *   SPLITRELAY_STICKY_DRAW=cycle      draws walk the pool in order: every address equally
 *                                     often, but each session's follows from the last
 *
 * It replaces crypto.randomBytes, which in an egress only the draws call (its TLS keys come
 * from OpenSSL). Test-only: production code has no such hook.
 */
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

const mode = process.env.SPLITRELAY_STICKY_DRAW;
if (mode === 'constant' || mode === 'cycle') {
  let counter = 0;
  const sticky = (size: number): Buffer => {
    const out = Buffer.alloc(size);
    // The last byte carries the index, so a one-byte draw (pools under 256) sees it whole.
    if (mode === 'cycle') out[size - 1] = counter++ % 256;
    return out;
  };
  // Only the callback-free form is used by the egress.
  (crypto as { randomBytes: unknown }).randomBytes = sticky;
  syncBuiltinESMExports();
}
