/**
 * What an egress publishes about itself. The schema is strict: a verifier refuses fields it
 * does not know, so a signed entry can never carry meaning that some verifiers ignore.
 *
 * To extend it (e.g. OHTTP HPKE key configs), add an optional field to `entryFields`; old
 * verifiers then refuse entries that use it, so roll verifiers out before publishers.
 */
import { z } from 'zod';
import { RELAY_ID, RELAY_ID_RULE } from '@splitrelay/authority';
import { parseEndpoint } from './endpoint.ts';
import { isSpkiPin } from './pin.ts';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
// A letter first: a region must not be able to spell an address.
const REGION = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
export const MAX_TLS_PINS = 4;

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
export type Entry = {
  readonly [K in keyof EntryShape]: EntryShape[K] extends (infer U)[]
    ? readonly U[]
    : EntryShape[K];
};

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
  return { ok: true, entry: Object.freeze(result.data) };
}
