/**
 * Who may open a session through this ingress: a client address under its new-session rate,
 * holding one unspent Privacy Pass token (RFC 9577/9578) per session. The checks run cheapest
 * first, so a flood of bad tokens costs a parse or a hash lookup each, and never a NATS round
 * trip: only a token whose signature verifies reaches the fleet-wide spent-token store.
 *
 *   rate (per address) → header → token bytes → challenge → key → signature → spent store
 */
import { clientAddressKey, type RateLimiter } from '@splitrelay/abuse-limits';
import { RelayError } from '@splitrelay/errors';
import {
  TOKEN_TYPE_BLIND_RSA,
  challengeDigest,
  decodeToken,
  encodeChallenge,
  formatChallengeHeader,
  parseTokenHeader,
  verifyToken,
  type Token,
} from '@splitrelay/privacy-pass';
import {
  SpentStoreUnavailableError,
  spentTokenKey,
  type SpentTokenStore,
} from '@splitrelay/spent-tokens';
import type { TokenKeyRing } from './token-keys.ts';

export interface PrivacyPassAdmission {
  /** The issuer whose tokens are accepted (issuer_name in the challenge). */
  readonly issuerName: string;
  /** This ingress fleet's public name (origin_info): tokens fetched for it are useless elsewhere. */
  readonly origin: string;
  readonly keys: TokenKeyRing;
  readonly spent: SpentTokenStore;
  /** Longest Proxy-Authorization value read at all; a type 0x0002 token needs about 500. */
  readonly maxHeaderChars: number;
}

export interface AdmissionOptions {
  /** New sessions per client address; absent means unlimited. */
  readonly rate?: RateLimiter;
  /** Absent means no token is asked for (a closed network or a test). */
  readonly privacyPass?: PrivacyPassAdmission;
  readonly now?: () => number;
}

/** Why sessions were refused, for the aggregate stats line (never per client). */
export type AdmissionCounters = Record<string, number>;

export class SessionAdmission {
  readonly #options: AdmissionOptions;
  readonly #now: () => number;
  readonly #challenge: Uint8Array | undefined;
  readonly #digest: Buffer | undefined;
  readonly counters: AdmissionCounters = { redeemed: 0 };

  constructor(options: AdmissionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const pp = options.privacyPass;
    if (pp) {
      // No redemption context: one static challenge lets clients fetch tokens ahead of time
      // (RFC 9577 §2.1.1), and the spent-token store is what makes each token single-use.
      this.#challenge = encodeChallenge({
        tokenType: TOKEN_TYPE_BLIND_RSA,
        issuerName: pp.issuerName,
        redemptionContext: new Uint8Array(0),
        originInfo: [pp.origin],
      });
      this.#digest = Buffer.from(challengeDigest(this.#challenge));
    }
  }

  /** Resolves when the session may open; otherwise rejects with the refusal to send. */
  async admit(clientAddr: string, proxyAuthorization: string | undefined): Promise<void> {
    const rate = this.#options.rate?.take(clientAddressKey(clientAddr));
    if (rate && !rate.ok) {
      throw this.#refuse('rate-limited', 'too many new sessions from this address', {
        retryAfterSeconds: rate.retryAfterSeconds,
      });
    }
    const pp = this.#options.privacyPass;
    if (pp === undefined) return;
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
      token = decodeToken(parseTokenHeader(proxyAuthorization, pp.maxHeaderChars));
    } catch {
      throw this.#refuseWithChallenge('token-invalid', 'malformed token', nowSeconds);
    }
    if (!this.#digest!.equals(token.challengeDigest)) {
      throw this.#refuseWithChallenge(
        'token-invalid',
        'token is for another challenge',
        nowSeconds,
      );
    }
    const lookup = pp.keys.lookup(token.tokenKeyId, nowSeconds);
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
      claim = await pp.spent.claim(spentTokenKey(token.tokenKeyId, token.nonce));
    } catch (err) {
      if (!(err instanceof SpentStoreUnavailableError)) throw err;
      // Fail closed: without the fleet-wide record a token could be spent on every instance.
      throw this.#refuse('auth-unavailable', 'token store unavailable; redemption fails closed');
    }
    if (claim === 'spent') {
      throw this.#refuseWithChallenge('token-invalid', 'token already spent', nowSeconds);
    }
    this.counters.redeemed = (this.counters.redeemed ?? 0) + 1;
  }

  /** The challenge clients are sent now, or undefined when no issuer key is valid. */
  challengeHeader(nowSeconds: number): string | undefined {
    const key = this.#options.privacyPass?.keys.current(nowSeconds);
    if (key === undefined || this.#challenge === undefined) return undefined;
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
    code: 'token-required' | 'token-invalid' | 'rate-limited' | 'auth-unavailable',
    details: string,
    options?: { retryAfterSeconds?: number; headers?: Record<string, string> },
  ): RelayError {
    this.counters[details] = (this.counters[details] ?? 0) + 1;
    return new RelayError(code, details, options);
  }
}
