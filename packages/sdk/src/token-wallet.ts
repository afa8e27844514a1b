/**
 * Privacy Pass tokens for the client (RFC 9576 §3: the client fetches, caches and spends).
 * The ingress's 407 names the challenge and the issuer key; the wallet checks that key is one
 * the issuer itself lists (key consistency: an ingress cannot tag a client with a key of its
 * own), fetches a batch of tokens from the issuer as an authenticated subscriber, and spends
 * one per new inner session, fetching the next batch before it runs out.
 *
 * The issuer sees the credential and blinded messages; the ingress sees tokens. Nothing in
 * one request lets either link them: the nonce is drawn here and leaves only inside a token.
 */
import { Agent, request } from 'undici';
import { RelayError } from '@splitrelay/errors';
import {
  ISSUER_DIRECTORY_PATH,
  MEDIA_TYPES,
  TOKEN_TYPE_BLIND_RSA,
  base64url,
  beginTokenRequest,
  decodeChallenge,
  decodeTokenBatch,
  encodeTokenBatch,
  formatTokenHeader,
  issuerDirectorySchema,
  parseChallengeHeader,
  type PendingToken,
} from '@splitrelay/privacy-pass';

/** What the SDK asks of whatever authenticates its sessions to the ingress. */
export interface SessionAuthenticator {
  /** Proxy-Authorization for one new session, or undefined while no challenge is known. */
  authorization(): Promise<string | undefined>;
  /** The ingress refused with a challenge (407): learn it, drop tokens it will not take. */
  challenged(proxyAuthenticate: string): void;
}

export interface TokenWalletOptions {
  /** The issuer's origin, e.g. `https://issuer.example:8443`. */
  readonly issuer: string;
  /** CA certificates (PEM) for the issuer; the system store when absent. */
  readonly issuerCa?: string | readonly string[];
  /** Name checked against the issuer certificate, when it differs from the URL's host. */
  readonly issuerServername?: string;
  /** The subscriber credential the issuer's attester checks (sent as a Bearer token). */
  readonly credential: string;
  readonly batchSize?: number;
  /** Fetch the next batch when fewer than this many tokens remain. */
  readonly refillBelow?: number;
  readonly timeoutMs?: number;
  readonly localAddress?: string;
}

interface Book {
  readonly challenge: Uint8Array;
  readonly tokenKey: Uint8Array;
  readonly id: string;
  readonly tokens: Uint8Array[];
  /** The issuer's request URI, once its directory listed this book's key (checked once). */
  requestUri?: string;
}

export class TokenWallet implements SessionAuthenticator {
  readonly #options: TokenWalletOptions;
  readonly #agent: Agent;
  #book: Book | undefined;
  #refill: Promise<void> | undefined;
  #fetched = 0;

  constructor(options: TokenWalletOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connect: {
        ...(options.issuerCa ? { ca: options.issuerCa as string[] } : {}),
        ...(options.issuerServername ? { servername: options.issuerServername } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      headersTimeout: options.timeoutMs ?? 10_000,
      bodyTimeout: options.timeoutMs ?? 10_000,
    });
  }

  /** Tokens held for the current challenge (for tests and stats). */
  get size(): number {
    return this.#book?.tokens.length ?? 0;
  }

  /** Tokens fetched from the issuer since start. */
  get fetched(): number {
    return this.#fetched;
  }

  challenged(proxyAuthenticate: string): void {
    let offer: { challenge: Uint8Array; tokenKey: Uint8Array } | undefined;
    try {
      offer = parseChallengeHeader(proxyAuthenticate).find(
        (c) => decodeChallenge(c.challenge).tokenType === TOKEN_TYPE_BLIND_RSA,
      );
    } catch {
      offer = undefined;
    }
    if (offer === undefined) return;
    const id = `${base64url(offer.challenge)}.${base64url(offer.tokenKey)}`;
    // A 407 means the token sent (if any) was not taken: every token not for this exact
    // challenge and key is presumed useless too, and forgotten.
    if (this.#book?.id !== id) {
      this.#book = { challenge: offer.challenge, tokenKey: offer.tokenKey, id, tokens: [] };
    }
  }

  async authorization(): Promise<string | undefined> {
    const book = this.#book;
    if (book === undefined) return undefined;
    // Sessions opening together may drain a batch before this one gets a token: wait for the
    // next batch, a bounded number of times.
    for (let batch = 0; book.tokens.length === 0 && batch < 3; batch++) {
      await this.#startRefill(book);
    }
    const token = book.tokens.shift();
    if (token === undefined) throw new RelayError('token-required', 'the issuer gave no tokens');
    if (book.tokens.length < (this.#options.refillBelow ?? 4)) {
      // Ahead of need, so the next session does not wait for the issuer.
      this.#startRefill(book).catch(() => {});
    }
    return formatTokenHeader(token);
  }

  close(): void {
    void this.#agent.close();
  }

  #startRefill(book: Book): Promise<void> {
    this.#refill ??= this.#fetchBatch(book).finally(() => {
      this.#refill = undefined;
    });
    return this.#refill;
  }

  async #fetchBatch(book: Book): Promise<void> {
    book.requestUri ??= await this.#checkKeyListed(book.tokenKey);
    const requestUri = book.requestUri;
    const pending: PendingToken[] = await Promise.all(
      Array.from({ length: this.#options.batchSize ?? 16 }, () =>
        beginTokenRequest(book.challenge, book.tokenKey),
      ),
    );
    const res = await request(new URL(requestUri, this.#options.issuer), {
      dispatcher: this.#agent,
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.#options.credential}`,
        'content-type': MEDIA_TYPES.requestBatch,
        accept: MEDIA_TYPES.responseBatch,
      },
      body: encodeTokenBatch(pending.map((p) => p.request)),
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) {
      throw new RelayError(
        'token-required',
        `issuer refused tokens (${res.statusCode}): ${body.toString('utf8', 0, 200).trim()}`,
      );
    }
    const responses = decodeTokenBatch(body, pending.length);
    if (responses.length !== pending.length) {
      throw new RelayError('token-required', 'issuer answered a different number of tokens');
    }
    const tokens = await Promise.all(pending.map((p, i) => p.finalize(responses[i]!)));
    this.#fetched += tokens.length;
    if (this.#book === book) book.tokens.push(...tokens);
  }

  /** The key the ingress names must be in the issuer's own directory. */
  async #checkKeyListed(tokenKey: Uint8Array): Promise<string> {
    const res = await request(new URL(ISSUER_DIRECTORY_PATH, this.#options.issuer), {
      dispatcher: this.#agent,
      headers: { accept: MEDIA_TYPES.directory },
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      throw new RelayError('token-required', `issuer directory answered ${res.statusCode}`);
    }
    const directory = issuerDirectorySchema.parse(JSON.parse(text));
    const wanted = base64url(tokenKey);
    const listed = directory['token-keys'].some(
      (k) =>
        k['token-type'] === TOKEN_TYPE_BLIND_RSA && k['token-key'].replace(/=+$/, '') === wanted,
    );
    if (!listed) {
      throw new RelayError(
        'token-invalid',
        'the ingress names a token key the issuer does not list',
      );
    }
    return directory['issuer-request-uri'];
  }
}
