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
import { RelayError } from '@splitrelay/errors';
import {
  ISSUER_DIRECTORY_PATH,
  MEDIA_TYPES,
  TOKEN_TYPE_BLIND_RSA,
  base64url,
  beginTokenRequest,
  decodeChallenge,
  encodeChallenge,
  fromBase64url,
  decodeTokenBatch,
  encodeTokenBatch,
  formatTokenHeader,
  issuerDirectorySchema,
  parseChallengeHeader,
  type IssuerDirectory,
  type PendingToken,
} from '@splitrelay/privacy-pass';
import { IssuerClient } from './issuer-client.ts';

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
  /**
   * The challenge the ingress fleet will send, when the client can know it: a fleet's
   * challenge has no redemption context (RFC 9577 §2.1.1), so it is its issuer's name and its
   * public name, the same for every client. With the issuer's preferred key it lets
   * `prefetch()` fetch tokens before the first session, which then needs no 407. A wrong
   * guess costs the tokens fetched for it and one 407, after which the wallet uses the
   * challenge the ingress sent.
   */
  readonly expectedChallenge?: { readonly issuerName: string; readonly originInfo: string };
}

interface Book {
  readonly challenge: Uint8Array;
  readonly tokenKey: Uint8Array;
  readonly id: string;
  readonly tokens: Uint8Array[];
  /** The issuer's request URI, once its directory listed this book's key (checked once). */
  requestUri?: string;
}

/** Tokens fetched when a session is waiting for one; the full batch follows in the background. */
const URGENT_BATCH = 2;

/** The tokens of one (challenge, token key) pair; its id tells two such pairs apart. */
const newBook = (challenge: Uint8Array, tokenKey: Uint8Array): Book => ({
  challenge,
  tokenKey,
  id: `${base64url(challenge)}.${base64url(tokenKey)}`,
  tokens: [],
});

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TokenWallet implements SessionAuthenticator {
  readonly #options: TokenWalletOptions;
  readonly #issuer: IssuerClient;
  #book: Book | undefined;
  /** The issuer's directory, fetched once ahead of need (see prefetch). */
  #directory: Promise<IssuerDirectory> | undefined;
  #refill: Promise<void> | undefined;
  #fetched = 0;
  /** Sessions waiting for a token right now. */
  #waiting = 0;
  /** The expected challenge's first tokens, while prefetch() is fetching them. */
  #predicted: Promise<void> | undefined;

  constructor(options: TokenWalletOptions) {
    this.#options = options;
    this.#issuer = new IssuerClient({
      ...(options.issuerCa ? { ca: options.issuerCa } : {}),
      ...(options.issuerServername ? { servername: options.issuerServername } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      timeoutMs: options.timeoutMs ?? 10_000,
    });
  }

  /**
   * Fetches the issuer's directory (and so opens the connection to it) before the first 407,
   * so a cold start waits for the issuer once, for the tokens only. The directory is public
   * and the same for every client: fetching it early tells the issuer nothing new.
   */
  prefetch(): void {
    this.#directory ??= this.#fetchDirectory();
    this.#directory.catch(() => {
      this.#directory = undefined;
    });
    const expected = this.#options.expectedChallenge;
    if (expected !== undefined && this.#book === undefined) {
      this.#predicted ??= this.#fetchForExpected(expected)
        .catch(() => {})
        .finally(() => {
          this.#predicted = undefined;
        });
    }
  }

  async #fetchForExpected(expected: { issuerName: string; originInfo: string }): Promise<void> {
    const directory = await this.#directory!;
    const now = Date.now() / 1000;
    // The directory lists keys in the issuer's order of preference (RFC 9578 §4).
    const key = directory['token-keys'].find(
      (k) => k['token-type'] === TOKEN_TYPE_BLIND_RSA && (k['not-before'] ?? 0) <= now,
    );
    if (key === undefined || this.#book !== undefined) return;
    const challenge = encodeChallenge({
      tokenType: TOKEN_TYPE_BLIND_RSA,
      issuerName: expected.issuerName,
      redemptionContext: new Uint8Array(0),
      originInfo: [expected.originInfo],
    });
    const book = newBook(challenge, fromBase64url(key['token-key']));
    // Taken from the issuer's own directory just now: the key is listed.
    book.requestUri = directory['issuer-request-uri'];
    this.#book = book;
    await this.#startRefill(book, URGENT_BATCH);
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
    const book = newBook(offer.challenge, offer.tokenKey);
    // A 407 means the token sent (if any) was not taken: every token not for this exact
    // challenge and key is presumed useless too, and forgotten.
    if (this.#book?.id !== book.id) this.#book = book;
  }

  async authorization(): Promise<string | undefined> {
    await this.#predicted;
    const book = this.#book;
    if (book === undefined) return undefined;
    // Sessions opening together may drain a batch before this one gets a token: wait for the
    // next batch, a bounded number of times.
    for (let batch = 0; book.tokens.length === 0 && batch < 3; batch++) {
      // Waiting sessions need a token each now, not a batch: blinding and signing cost ~3 ms
      // a token between client and issuer, all of it on a cold start's critical path.
      this.#waiting++;
      try {
        await this.#startRefill(
          book,
          Math.min(this.#options.batchSize ?? 16, URGENT_BATCH + this.#waiting - 1),
        );
      } finally {
        this.#waiting--;
      }
    }
    const token = book.tokens.shift();
    if (token === undefined) throw new RelayError('token-required', 'the issuer gave no tokens');
    if (book.tokens.length < (this.#options.refillBelow ?? 4)) {
      // Ahead of need, so the next session does not wait for the issuer.
      this.#startRefill(book, this.#options.batchSize ?? 16).catch(() => {});
    }
    return formatTokenHeader(token);
  }

  close(): void {
    this.#issuer.close();
  }

  #startRefill(book: Book, count: number): Promise<void> {
    this.#refill ??= this.#fetchBatch(book, count).finally(() => {
      this.#refill = undefined;
    });
    return this.#refill;
  }

  async #fetchBatch(book: Book, count: number): Promise<void> {
    book.requestUri ??= await this.#checkKeyListed(book.tokenKey);
    const requestUri = book.requestUri;
    // One token's RSA work at a time, yielding between them: a background refill must not hold
    // the event loop for a whole batch while sessions are handshaking.
    const pending: PendingToken[] = [];
    for (let i = 0; i < count; i++) {
      pending.push(await beginTokenRequest(book.challenge, book.tokenKey));
      await yieldToIo();
    }
    const res = await this.#issuer.request(new URL(requestUri, this.#options.issuer), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.#options.credential}`,
        'content-type': MEDIA_TYPES.requestBatch,
        accept: MEDIA_TYPES.responseBatch,
      },
      body: encodeTokenBatch(pending.map((p) => p.request)),
    });
    if (res.status !== 200) {
      throw new RelayError(
        'token-required',
        `issuer refused tokens (${res.status}): ${res.body.toString('utf8', 0, 200).trim()}`,
      );
    }
    const responses = decodeTokenBatch(res.body, pending.length);
    if (responses.length !== pending.length) {
      throw new RelayError('token-required', 'issuer answered a different number of tokens');
    }
    const tokens: Uint8Array[] = [];
    for (const [i, p] of pending.entries()) {
      tokens.push(await p.finalize(responses[i]!));
      await yieldToIo();
    }
    this.#fetched += tokens.length;
    if (this.#book === book) book.tokens.push(...tokens);
  }

  /**
   * The key the ingress names must be in the issuer's own directory. A prefetched directory
   * that lacks it is fetched again once: the issuer may have rotated keys since.
   */
  async #checkKeyListed(tokenKey: Uint8Array): Promise<string> {
    const wanted = base64url(tokenKey);
    const lists = (directory: IssuerDirectory) =>
      directory['token-keys'].some(
        (k) =>
          k['token-type'] === TOKEN_TYPE_BLIND_RSA && k['token-key'].replace(/=+$/, '') === wanted,
      );
    // A failed prefetch is not final: ask again now that a key is needed.
    let directory = await (this.#directory ?? this.#fetchDirectory()).catch(() =>
      this.#fetchDirectory(),
    );
    if (!lists(directory)) directory = await (this.#directory = this.#fetchDirectory());
    if (!lists(directory)) {
      throw new RelayError(
        'token-invalid',
        'the ingress names a token key the issuer does not list',
      );
    }
    return directory['issuer-request-uri'];
  }

  async #fetchDirectory(): Promise<IssuerDirectory> {
    const res = await this.#issuer.request(new URL(ISSUER_DIRECTORY_PATH, this.#options.issuer), {
      headers: { accept: MEDIA_TYPES.directory },
    });
    if (res.status !== 200) {
      throw new RelayError('token-required', `issuer directory answered ${res.status}`);
    }
    return issuerDirectorySchema.parse(JSON.parse(res.body.toString('utf8')));
  }
}
