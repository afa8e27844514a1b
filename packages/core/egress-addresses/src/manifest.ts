/**
 * The operator manifest: what a relay promises about privacy, in one strict document its
 * operator signs with the Ed25519 key that signs its directory entries, so an auditor (or a
 * client) can hold every operator to the same list and compare it with what it observes
 * (the geofeed, the directory, the relay's behaviour).
 *
 *   Manifest = { v: 1, operator, relayId, role, version, issuedAt, notAfter,
 *                forwardsClientData, logging, retention, addresses?, tokens, software }
 *   signed as  { payload, sig, kid } with CONTEXT = "splitrelay-operator-manifest-v1" 0x00
 *
 * `addresses` is required for an egress and refused for any other role. Unknown fields are
 * refused, so a manifest can never carry a promise that some verifiers silently skip.
 */
import { z } from 'zod';
import { RELAY_ID, RELAY_ID_RULE } from '@splitrelay/authority';
import {
  DirectoryError,
  checkWindow,
  describeIssues,
  keyIdSchema,
  openDocument,
  signDocument,
  signatureContext,
  trustedKeyMap,
  type SignedEnvelope,
  type TrustedKeys,
} from '@splitrelay/directory';
import { COUNTRY_CODE, REGION_ID, SUBDIVISION_CODE } from './config.ts';
import type { AddressPools } from './pools.ts';
import { formatPrefix, parsePrefix } from './prefix.ts';
import type { KeyObject } from 'node:crypto';

export const MANIFEST_CONTEXT = signatureContext('operator-manifest');
/** Room for a few thousand prefixes; a manifest is read rarely and by few. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

const unixSeconds = z.int().min(0);
const bits = z.number().min(0).max(128);
const uniqueSorted = <T extends z.ZodType<string | number>>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine(
      (xs) =>
        xs.every((x, i) => i === 0 || (xs[i - 1] as string | number) < (x as string | number)),
      'must be sorted and without repeats',
    );

const prefixText = z
  .string()
  .max(49)
  .refine((s) => {
    const r = parsePrefix(s);
    return r.ok && formatPrefix(r.prefix) === s;
  }, 'must be a canonical IPv4 or IPv6 prefix');

const poolRegion = z.strictObject({
  id: z.string().regex(REGION_ID),
  country: z.string().regex(COUNTRY_CODE),
  subdivision: z.string().regex(SUBDIVISION_CODE).optional(),
  city: z.string().min(1).max(100).optional(),
  prefixes: z.array(prefixText).min(1).max(4096),
  /** log2 of the usable addresses per family: the entropy of one draw. */
  entropyBits: z.strictObject({ ipv4: bits.optional(), ipv6: bits.optional() }),
});

export const manifestFields = {
  v: z.literal(1),
  /** Key id of the operator key that signs this manifest (and the relay's entries). */
  operator: keyIdSchema,
  relayId: z.string().regex(RELAY_ID, RELAY_ID_RULE),
  role: z.enum(['ingress', 'egress', 'issuer']),
  /** Monotonic per relay: a higher version replaces a lower one. */
  version: z.int().min(0),
  /** Unix seconds; valid from issuedAt (inclusive) to notAfter (exclusive). */
  issuedAt: unixSeconds,
  notAfter: unixSeconds,
  /** Whether anything learnt about a client (address, hint, token, timing) goes to a third party. */
  forwardsClientData: z.boolean(),
  logging: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Every field name the relay's log lines can hold (its logger's allowlist). */
    fields: uniqueSorted(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/), 256),
    /** Whether a log line is ever written per flow (refusals included). */
    perFlowRecords: z.boolean(),
    /** Whether any log line can hold a client's address. */
    clientAddresses: z.boolean(),
    /** Whether any log line can hold a target (name or address). */
    targets: z.boolean(),
  }),
  retention: z.strictObject({
    logsDays: z.int().min(0).max(3650),
    metricsDays: z.int().min(0).max(3650),
  }),
  addresses: z
    .strictObject({
      /** Per inner session: every flow of a session shares it, sessions draw independently. */
      drawnPer: z.literal('session'),
      entropyFloorBits: bits,
      regions: z.array(poolRegion).min(1).max(256),
      /**
       * With an Oblivious HTTP gateway: its requests belong to no session and carry no hint,
       * so each of its target connections draws afresh from one region (the default).
       */
      gateway: z
        .strictObject({ drawnPer: z.literal('connection'), region: z.string().regex(REGION_ID) })
        .optional(),
    })
    .optional(),
  tokens: z.strictObject({
    /** Whether every session must present a Privacy Pass token. */
    required: z.boolean(),
    /** Accepted token types (RFC 9578 §8.2 registry: 2 = publicly verifiable blind RSA). */
    tokenTypes: uniqueSorted(z.int().min(0).max(0xffff), 16),
    /** Issuer names whose tokens are accepted. */
    issuers: uniqueSorted(z.string().min(1).max(253), 64),
    /** Where double spending is prevented: across the fleet, in this relay only, or not. */
    doubleSpend: z.enum(['fleet', 'relay', 'none']),
  }),
  software: z.strictObject({
    name: z.string().regex(/^[a-z0-9@/._-]{1,128}$/),
    version: z
      .string()
      .regex(/^[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]{1,64})?$/, 'must be semver'),
    /** SHA-256 of the build that runs (e.g. of the bundle or image), so it can be rebuilt and compared. */
    buildDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256: and 64 hex digits'),
  }),
};

export const manifestSchema = z
  .strictObject(manifestFields)
  .refine(
    (m) =>
      !Number.isInteger(m.issuedAt) || !Number.isInteger(m.notAfter) || m.issuedAt < m.notAfter,
    { message: 'must be after issuedAt', path: ['notAfter'] },
  )
  .refine((m) => (m.role === 'egress') === (m.addresses !== undefined), {
    message: 'is required for an egress and refused for other roles',
    path: ['addresses'],
  });

export type Manifest = z.output<typeof manifestSchema>;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function parseManifest(value: unknown): Manifest {
  const r = manifestSchema.safeParse(value);
  if (!r.success) {
    throw new DirectoryError('malformed', `manifest is malformed: ${describeIssues(r.error)}`);
  }
  return deepFreeze(r.data);
}

/** Checks the manifest, then signs it with the operator key that signs its directory entries. */
export function signManifest(
  manifest: Manifest,
  privateKey: KeyObject,
  kid: string,
): SignedEnvelope {
  const checked = parseManifest(manifest);
  if (checked.operator !== kid) {
    throw new DirectoryError(
      'operator-mismatch',
      'manifest operator differs from the signing key id',
    );
  }
  return signDocument(MANIFEST_CONTEXT, checked, privateKey, kid, 'manifest', MAX_MANIFEST_BYTES);
}

/**
 * Verifies a signed manifest against trusted operator keys at `now` (unix seconds): a
 * tampered byte is 'bad-signature', a key nobody trusts 'unknown-key', outside its window
 * 'not-yet-valid' or 'expired'. A TypeError means the caller's own arguments are wrong.
 */
export function verifyManifest(signed: unknown, trustedKeys: TrustedKeys, now: number): Manifest {
  if (!Number.isFinite(now)) throw new TypeError('now must be finite unix seconds');
  const keys = trustedKeyMap(trustedKeys);
  const { kid, value } = openDocument(
    MANIFEST_CONTEXT,
    signed,
    keys,
    'manifest',
    MAX_MANIFEST_BYTES,
  );
  const manifest = parseManifest(value);
  // Otherwise operator A's key could vouch for a manifest that claims operator B.
  if (manifest.operator !== kid) {
    throw new DirectoryError(
      'operator-mismatch',
      'manifest operator differs from the signing key id',
    );
  }
  checkWindow({ notBefore: manifest.issuedAt, notAfter: manifest.notAfter }, now, 'manifest');
  return manifest;
}

/** The `addresses` section of an egress's manifest, straight from its compiled pools. */
export function manifestAddresses(pools: AddressPools): NonNullable<Manifest['addresses']> {
  return {
    drawnPer: 'session',
    entropyFloorBits: pools.entropyFloorBits,
    regions: pools.regions.map((r) => ({
      id: r.id,
      country: r.country,
      ...(r.subdivision === undefined ? {} : { subdivision: r.subdivision }),
      ...(r.city === undefined ? {} : { city: r.city }),
      prefixes: [...(r.ipv4?.prefixes ?? []), ...(r.ipv6?.prefixes ?? [])].map((p) =>
        formatPrefix(p.prefix),
      ),
      entropyBits: {
        ...(r.ipv4 === undefined ? {} : { ipv4: round2(r.ipv4.entropyBits) }),
        ...(r.ipv6 === undefined ? {} : { ipv6: round2(r.ipv6.entropyBits) }),
      },
    })),
  };
}

/** Two decimals: enough to compare with a floor, and the same text on every platform. */
function round2(x: number): number {
  return Math.floor(x * 100) / 100;
}
