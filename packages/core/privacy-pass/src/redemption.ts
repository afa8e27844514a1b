/**
 * Redeeming a Privacy Pass token (RFC 9577/9578) for one new session at an ingress. The checks
 * run cheapest first, so a flood of bad tokens costs a parse or a hash lookup each, and never a
 * round trip to the spent-token ledger: only a token whose signature verifies reaches it.
 *
 *   header → token bytes → challenge → key window → signature → spent-token ledger
 *
 * Every refusal is the RelayError to send: 407 with a fresh challenge (Proxy-Authenticate)
 * for a missing or bad token, 503 when no key is valid or the ledger cannot answer (fail
 * closed: without the fleet-wide record a token could be spent on every instance).
 */
import { Buffer } from 'node:buffer';
import { RelayError, isRelayError } from '@splitrelay/errors';
import { challengeDigest, encodeChallenge } from './challenge.ts';
import { formatChallengeHeader, parseTokenHeader } from './headers.ts';
import type { TokenKeyRing } from './key-ring.ts';
import { TOKEN_TYPE_BLIND_RSA, decodeToken, type Token } from './token.ts';
import { verifyToken } from './verify.ts';

/**
 * Where spent tokens are recorded (fleet-wide): 'fresh' exactly once per token, 'spent' after.
 * Rejecting with a RelayError 'auth-unavailable' means the answer is unknown: the redemption
 * then fails closed.
 */
export interface SpentTokenLedger {
  claim(tokenKeyId: Uint8Array, nonce: Uint8Array): Promise<'fresh' | 'spent'>;
}

export interface TokenRedeemerOptions {
  /** The issuer whose tokens are accepted (issuer_name in the challenge). */
  readonly issuerName: string;
  /** This ingress fleet's public name (origin_info): tokens fetched for it are useless elsewhere. */
  readonly origin: string;
  readonly keys: TokenKeyRing;
  readonly spent: SpentTokenLedger;
  /** Longest Proxy-Authorization value read at all; a type 0x0002 token needs about 500. */
  readonly maxHeaderChars: number;
  readonly now?: () => number;
}

/** Why sessions were refused, for the aggregate stats line (never per client). */
export type RedemptionCounters = Record<string, number>;

type RefusalCode = 'token-required' | 'token-invalid' | 'auth-unavailable';

export class TokenRedeemer {
  readonly #options: TokenRedeemerOptions;
  readonly #now: () => number;
  readonly #challenge: Uint8Array;
  readonly #digest: Buffer;
  readonly counters: RedemptionCounters = { redeemed: 0 };

  constructor(options: TokenRedeemerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // No redemption context: one static challenge lets clients fetch tokens ahead of time
    // (RFC 9577 §2.1.1), and the spent-token ledger is what makes each token single-use.
    this.#challenge = encodeChallenge({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      issuerName: options.issuerName,
      redemptionContext: new Uint8Array(0),
      originInfo: [options.origin],
    });
    this.#digest = Buffer.from(challengeDigest(this.#challenge));
  }

  /** Resolves when the token opens a session; otherwise rejects with the refusal to send. */
  async redeem(proxyAuthorization: string | undefined): Promise<void> {
    const { keys, spent, maxHeaderChars } = this.#options;
    const nowSeconds = Math.floor(this.#now() / 1000);
    if (proxyAuthorization === undefined) {
      throw this.#refuseWithChallenge(
        'token-required',
        'a Privacy Pass token is required',
        nowSeconds,
      );
    }
    let token: Token;
    try {
      token = decodeToken(parseTokenHeader(proxyAuthorization, maxHeaderChars));
    } catch {
      throw this.#refuseWithChallenge('token-invalid', 'malformed token', nowSeconds);
    }
    if (!this.#digest.equals(token.challengeDigest)) {
      throw this.#refuseWithChallenge(
        'token-invalid',
        'token is for another challenge',
        nowSeconds,
      );
    }
    const lookup = keys.lookup(token.tokenKeyId, nowSeconds);
    if ('refused' in lookup)
      throw this.#refuseWithChallenge('token-invalid', lookup.refused, nowSeconds);
    if (!verifyToken(token, lookup.found.key)) {
      throw this.#refuseWithChallenge(
        'token-invalid',
        'token signature does not verify',
        nowSeconds,
      );
    }
    let claim: 'fresh' | 'spent';
    try {
      claim = await spent.claim(token.tokenKeyId, token.nonce);
    } catch (err) {
      if (!(isRelayError(err) && err.code === 'auth-unavailable')) throw err;
      throw this.#refuse('auth-unavailable', 'token store unavailable; redemption fails closed');
    }
    if (claim === 'spent') {
      throw this.#refuseWithChallenge('token-invalid', 'token already spent', nowSeconds);
    }
    this.counters.redeemed = (this.counters.redeemed ?? 0) + 1;
  }

  /** The challenge clients are sent now, or undefined when no issuer key is valid. */
  challengeHeader(nowSeconds: number): string | undefined {
    const key = this.#options.keys.current(nowSeconds);
    if (key === undefined) return undefined;
    return formatChallengeHeader({ challenge: this.#challenge, tokenKey: key.key.spki });
  }

  #refuseWithChallenge(
    code: 'token-required' | 'token-invalid',
    details: string,
    nowSeconds: number,
  ): RelayError {
    const header = this.challengeHeader(nowSeconds);
    if (header === undefined) {
      return this.#refuse('auth-unavailable', 'no issuer key is valid now');
    }
    return this.#refuse(code, details, { headers: { 'proxy-authenticate': header } });
  }

  #refuse(
    code: RefusalCode,
    details: string,
    options?: { headers?: Record<string, string> },
  ): RelayError {
    this.counters[details] = (this.counters[details] ?? 0) + 1;
    return new RelayError(code, details, options);
  }
}
