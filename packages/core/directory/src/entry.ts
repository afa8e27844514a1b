/**
 * What an egress publishes about itself. The schema is strict: a verifier refuses fields it
 * does not know, so a signed entry can never carry meaning that some verifiers ignore.
 *
 * To extend it, add an optional field to `entryFields` (as `ohttpKeys` was); old verifiers
 * then refuse entries that use it, so roll verifiers out before publishers.
 */
import { z } from 'zod';
import { RELAY_ID, RELAY_ID_RULE } from '@splitrelay/authority';
import { parseEndpoint } from './endpoint.ts';
import { isSpkiPin } from './pin.ts';
import { MAX_OHTTP_KEYS_BYTES, ohttpKeysProblem } from './ohttp-keys.ts';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
// A letter first: a region must not be able to spell an address.
const REGION = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
export const MAX_TLS_PINS = 4;
/** An ISO 3166-1 alpha-2 country, or an ISO 3166-2 subdivision of one (RFC 8805 §2.1.1). */
export const LOCATION_CODE = /^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$/;
export const MAX_SERVED_LOCATIONS = 256;
const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/;

/**
 * A document an egress publishes (its geofeed, its manifest): an https URL in the spelling
 * URL parsing gives back, without credentials, query or fragment. Plain http only on a
 * loopback host, for a local deployment.
 */
export function isPublicationUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return (
    url.href === text &&
    (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))) &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    /^[A-Za-z0-9._~/-]{1,256}$/.test(url.pathname)
  );
}

const publicationUrl = z
  .string()
  .max(512)
  .refine(
    isPublicationUrl,
    'must be a canonical https:// URL (http:// only on loopback) without credentials, query or fragment',
  );

export const keyIdSchema = z.string().regex(KEY_ID, 'must be 1-64 of [A-Za-z0-9._-]');

const unixSeconds = z.int().min(0);

export const entryFields = {
  v: z.literal(1),
  /** A relay id (one DNS label), so it can stand as the host in `CONNECT egress-id:443`. */
  id: z.string().regex(RELAY_ID, RELAY_ID_RULE),
  /** Key id of the operator key that signs this entry. */
  operator: keyIdSchema,
  /** Trunk address ingresses dial, `host:port`. */
  endpoint: z
    .string()
    .max(262)
    .refine((s) => parseEndpoint(s) !== undefined, 'must be host:port (DNS name, IPv4 or [IPv6])'),
  region: z.string().regex(REGION, 'must be a letter then up to 63 of [A-Za-z0-9-]'),
  /** RFC 7469-style SPKI SHA-256 pins; several while a TLS key rotation overlaps. */
  tlsPins: z
    .array(z.string().refine(isSpkiPin, 'must be base64 of a SHA-256 digest (44 characters)'))
    .min(1)
    .max(MAX_TLS_PINS)
    .refine((pins) => new Set(pins).size === pins.length, 'must not repeat a pin'),
  /** Unix seconds; valid from notBefore (inclusive) to notAfter (exclusive). */
  notBefore: unixSeconds,
  notAfter: unixSeconds,
  /** Monotonic per egress id: a higher version replaces a lower one. */
  version: z.int().min(0),
  /**
   * The Oblivious HTTP gateway's key configurations: base64url of `application/ohttp-keys`
   * (ohttp-keys.ts). Clients use the first one they support; absent, no gateway.
   */
  ohttpKeys: z
    .string()
    .max(Math.ceil((MAX_OHTTP_KEYS_BYTES * 4) / 3), { abort: true })
    .superRefine((text, ctx) => {
      const problem = ohttpKeysProblem(text);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /**
   * Where its source addresses geolocate to: the countries and subdivisions of its address
   * pools (its geofeed's alpha2code and region fields), sorted, without repeats. A client
   * that shares only its country prefers an egress that serves it.
   */
  serves: z
    .array(z.string().regex(LOCATION_CODE, 'must be an ISO 3166-1 alpha-2 or ISO 3166-2 code'))
    .min(1)
    .max(MAX_SERVED_LOCATIONS)
    .refine(
      (xs) => xs.every((x, i) => i === 0 || (xs[i - 1] as string) < x),
      'must be sorted and without repeats',
    )
    .optional(),
  /** Its RFC 8805 geofeed (what the `geofeed:` attribute of its RPSL objects names, RFC 9632). */
  geofeed: publicationUrl.optional(),
  /** Its signed operator manifest, for auditors (served at MANIFEST_PATH by the relay). */
  manifest: publicationUrl.optional(),
};

export const entrySchema = z
  .strictObject(entryFields)
  // zod runs this even when a field already failed; only judge the window when both are sound.
  .refine(
    (e) =>
      !Number.isInteger(e.notBefore) || !Number.isInteger(e.notAfter) || e.notBefore < e.notAfter,
    {
      message: 'must be after notBefore',
      path: ['notAfter'],
    },
  );

type EntryShape = z.output<typeof entrySchema>;

/** A directory entry. Verified entries are frozen, hence readonly all the way down. */
export type Entry = { readonly [K in keyof EntryShape]: ReadonlyArrays<EntryShape[K]> };
/** Distributes over optional fields' `| undefined`, so `serves?` is readonly too. */
type ReadonlyArrays<T> = T extends (infer U)[] ? readonly U[] : T;

/** One line per problem, with the field's path, for error messages and rejection reasons. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Checks an entry and returns a frozen copy, or the zod error describing every problem. */
export function parseEntry(
  input: unknown,
): { ok: true; entry: Entry } | { ok: false; error: z.ZodError } {
  const result = entrySchema.safeParse(input);
  if (!result.success) return { ok: false, error: result.error };
  Object.freeze(result.data.tlsPins);
  if (result.data.serves) Object.freeze(result.data.serves);
  return { ok: true, entry: Object.freeze(result.data) };
}
