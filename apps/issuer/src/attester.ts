/**
 * Attestation: who is asking for tokens. The issuer is the one place that learns a
 * subscriber's identity, and only here; what it issues is blind, so nothing it learns at this
 * step can later be tied to where a token is spent.
 *
 * The demo attester is a file of { subscriber, credentialSha256 } records. A subscriber
 * presents `Authorization: Bearer <credential>`; the issuer hashes it and compares the hash
 * with every record in constant time, so neither the timing nor the file reveals a
 * credential. A real access network plugs its own subscriber check in behind `Attester`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface Attestation {
  /** The subscriber's id, as the access network names it (rate limits count per id). */
  readonly subscriber: string;
}

export interface Attester {
  /** The subscriber behind this `Authorization` header value, or undefined to refuse. */
  attest(authorization: string | undefined): Promise<Attestation | undefined>;
  /** Re-reads its source (SIGHUP); throws, keeping the old state, when the source is bad. */
  reload?(): void;
}

/** Subscriber ids are logged on refusals: printable, short, no spaces. */
export const SUBSCRIBER_ID = /^[A-Za-z0-9._:@+-]{1,128}$/;

export const attesterFileSchema = z
  .array(
    z.strictObject({
      subscriber: z.string().regex(SUBSCRIBER_ID, 'must be 1-128 of [A-Za-z0-9._:@+-]'),
      credentialSha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (SHA-256 of the credential)'),
    }),
  )
  .max(1_000_000)
  .refine((records) => new Set(records.map((r) => r.credentialSha256)).size === records.length, {
    message: 'two records have the same credential',
  });

export type AttesterRecord = z.output<typeof attesterFileSchema>[number];

/** RFC 6750 §2.1: `Bearer` (any case), one space or more, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The credential of a Bearer Authorization value, or undefined. */
export function bearerCredential(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length > 4096) return undefined;
  return BEARER.exec(authorization)?.[1];
}

export function credentialSha256(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

export interface HeldCredential {
  readonly hash: Uint8Array;
  readonly subscriber: string;
}

/**
 * The subscriber whose credential hash equals `hash`. Every record is compared, match or not,
 * with a constant-time comparison, so the time taken says nothing about which record (or
 * whether any) matched. `equal` is injectable for the test that proves the no-early-exit.
 */
export function matchCredential(
  records: readonly HeldCredential[],
  hash: Uint8Array,
  equal: (a: Uint8Array, b: Uint8Array) => boolean = timingSafeEqual,
): string | undefined {
  let found: string | undefined;
  for (const record of records) {
    const same = record.hash.length === hash.length && equal(record.hash, hash);
    if (same && found === undefined) found = record.subscriber;
  }
  return found;
}

export class FileAttester implements Attester {
  readonly #file: string;
  #records: readonly HeldCredential[] = [];

  constructor(file: string) {
    this.#file = file;
    this.reload();
  }

  get size(): number {
    return this.#records.length;
  }

  reload(): void {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      throw new Error(
        `attester file ${this.#file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
        { cause: err },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // JSON.parse quotes the text around the error, and this text holds credentials' hashes.
      throw new Error(`attester file ${this.#file}: not valid JSON`);
    }
    const parsed = attesterFileSchema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
      );
      throw new Error(`attester file ${this.#file}: ${problems.join('; ')}`);
    }
    this.#records = parsed.data.map((r) => ({
      hash: Buffer.from(r.credentialSha256, 'hex'),
      subscriber: r.subscriber,
    }));
  }

  async attest(authorization: string | undefined): Promise<Attestation | undefined> {
    const credential = bearerCredential(authorization);
    if (credential === undefined) return undefined;
    const hash = createHash('sha256').update(credential, 'utf8').digest();
    const subscriber = matchCredential(this.#records, hash);
    return subscriber === undefined ? undefined : { subscriber };
  }
}
