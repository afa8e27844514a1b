/**
 * Strict zod schemas for every message on the control plane. They are the "no per-flow
 * data, by construction" promise: unknown keys are refused at every level (signed payloads
 * included), ids are DNS labels, the status is an enum, numbers are bounded integers or a
 * coarse load, and the only long string (a certificate) must be a canonical PEM
 * certificate. No schema has a place where a client address, target or port could go.
 */
import { X509Certificate } from 'node:crypto';
import {
  entrySchema,
  envelopeSchema,
  signedEntrySchema,
  unverifiedPayload,
  type SignedEntry,
} from '@splitrelay/directory';
import { manifestSchema } from '@splitrelay/egress-addresses';
import { z } from 'zod';
import { issuerKeysMessageSchema, type IssuerKeysMessage } from './issuer-keys.ts';
import { RELAY_ID, RELAY_ID_RULE } from '@splitrelay/authority';
import type { AnyFamily } from './subjects.ts';

export const relayIdSchema = z.string().regex(RELAY_ID, RELAY_ID_RULE);

export const HEALTH_STATUSES = ['up', 'draining'] as const;
/** Sessions and capacity are counters, bounded so they cannot hold arbitrary 53-bit values. */
export const MAX_COUNTER = 1_000_000_000;
/** A heartbeat may claim at most this lifetime; receivers clamp further (HealthTable). */
export const MAX_TTL_MS = 3_600_000;
/** Year 2286 in unix milliseconds: anything later is a unit mistake (seconds vs ms). */
export const MAX_UNIX_MS = 10_000_000_000_000;
/** Load travels in steps of 1/1000, so its low bits cannot carry anything. */
export const LOAD_STEPS = 1000;
export const MAX_CERT_PEM_CHARS = 8192;

/** Rounds a load in [0, 1] to the precision the health schema admits. */
export function quantizeLoad(load: number): number {
  if (!Number.isFinite(load)) return 1;
  return Math.round(Math.min(1, Math.max(0, load)) * LOAD_STEPS) / LOAD_STEPS;
}

export const healthSchema = z.strictObject({
  v: z.literal(1),
  id: relayIdSchema,
  status: z.enum(HEALTH_STATUSES),
  load: z
    .number()
    .min(0)
    .max(1)
    .refine((x) => quantizeLoad(x) === x, `must be a multiple of 1/${LOAD_STEPS}`),
  sessions: z.int().min(0).max(MAX_COUNTER),
  capacity: z.int().min(0).max(MAX_COUNTER),
  /** Unix milliseconds on the sender's clock; orders one sender's heartbeats. */
  sentAt: z.int().min(0).max(MAX_UNIX_MS),
  /** How long after receipt the sender counts as alive without another heartbeat. */
  ttlMs: z.int().min(1).max(MAX_TTL_MS),
});

export type Health = z.output<typeof healthSchema>;
export type HealthStatusField = Health['status'];

const PEM_SHAPE = /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/;

/**
 * One certificate, spelled exactly as Node re-serialises it: no text around the block, no
 * second block, no odd line lengths, so the PEM has no room for anything but DER.
 */
function isCanonicalCertPem(pem: string): boolean {
  if (!PEM_SHAPE.test(pem)) return false;
  try {
    return new X509Certificate(pem).toString() === pem;
  } catch {
    return false;
  }
}

const unixSeconds = z.int().min(0);

export const ingressCertPayloadSchema = z
  .strictObject({
    v: z.literal(1),
    id: relayIdSchema,
    certPem: z
      .string()
      .max(MAX_CERT_PEM_CHARS)
      .refine(isCanonicalCertPem, 'must be one certificate in canonical PEM'),
    /** Unix seconds; valid from notBefore (inclusive) to notAfter (exclusive). */
    notBefore: unixSeconds,
    notAfter: unixSeconds,
    /** Monotonic per ingress id: a higher version replaces a lower one. */
    version: z.int().min(0),
  })
  .refine(
    (c) =>
      !Number.isInteger(c.notBefore) || !Number.isInteger(c.notAfter) || c.notBefore < c.notAfter,
    { message: 'must be after notBefore', path: ['notAfter'] },
  );

export type IngressCertPayload = z.output<typeof ingressCertPayloadSchema>;

/**
 * On the control plane an operator key is named as keyIdOf names it (16 hex digits), which
 * @splitrelay/directory allows but does not require; it leaves the kid no room for text.
 */
export const KID_ON_WIRE = /^[0-9a-f]{16}$/;

/**
 * The signed envelope, whose payload must also decode (without a signature check) to a
 * valid inner message: otherwise the opaque base64 would be a place to hide anything.
 */
function signedMessageSchema(
  inner: z.ZodType,
  envelope: typeof signedEntrySchema = signedEntrySchema,
) {
  return envelope.superRefine((envelope, ctx) => {
    // zod runs this even when a field already failed; judge only what is sound.
    if (typeof envelope.kid === 'string' && !KID_ON_WIRE.test(envelope.kid)) {
      ctx.addIssue({ code: 'custom', path: ['kid'], message: 'must be 16 hex digits (keyIdOf)' });
    }
    if (typeof envelope.payload !== 'string') return;
    const payload = unverifiedPayload(envelope);
    if (payload === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload'],
        message: 'must be canonical base64url of UTF-8 JSON',
      });
      return;
    }
    const result = inner.safeParse(payload);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path], message: issue.message });
    }
  });
}

/** A directory entry on the wire: @splitrelay/directory's SignedEntry, unchanged. */
export const directoryMessageSchema = signedMessageSchema(entrySchema);
export const signedIngressCertSchema = signedMessageSchema(ingressCertPayloadSchema);
export type SignedIngressCert = z.output<typeof signedIngressCertSchema>;

/**
 * A manifest on the control plane may be at most this large (decoded), so that its message
 * stays under MAX_MESSAGE_BYTES; a manifest of a few hundred prefixes fits. A larger one is
 * published over HTTP only.
 */
export const MAX_MANIFEST_MESSAGE_BYTES = 22 * 1024;

/** A relay's signed operator manifest, for the family of its role. */
function manifestMessageSchema(role: 'egress' | 'ingress') {
  return signedMessageSchema(
    manifestSchema.refine((m) => m.role === role, {
      message: `must be the manifest of an ${role}`,
      path: ['role'],
    }),
    envelopeSchema(MAX_MANIFEST_MESSAGE_BYTES),
  );
}
export const egressManifestMessageSchema = manifestMessageSchema('egress');
export const ingressManifestMessageSchema = manifestMessageSchema('ingress');
export type SignedManifestMessage = z.output<typeof egressManifestMessageSchema>;

export interface MessageTypes {
  directory: SignedEntry;
  'egress-health': Health;
  'ingress-health': Health;
  'ingress-cert': SignedIngressCert;
  'egress-manifest': SignedManifestMessage;
  'ingress-manifest': SignedManifestMessage;
  'issuer-keys': IssuerKeysMessage;
}

export type MessageOf<F extends AnyFamily> = MessageTypes[F];

const SCHEMAS: { readonly [F in AnyFamily]: z.ZodType<MessageTypes[F]> } = {
  directory: directoryMessageSchema,
  'egress-health': healthSchema,
  'ingress-health': healthSchema,
  'ingress-cert': signedIngressCertSchema,
  'egress-manifest': egressManifestMessageSchema,
  'ingress-manifest': ingressManifestMessageSchema,
  'issuer-keys': issuerKeysMessageSchema,
};

export function schemaFor<F extends AnyFamily>(family: F): z.ZodType<MessageOf<F>> {
  return SCHEMAS[family];
}

/**
 * The relay id a (schema-valid) message speaks for: the health message's `id`, the `id`
 * inside a signed payload (a manifest's `relayId`), or the issuer keys' `issuerId`.
 * Receivers compare it with the subject's id.
 */
export function messageId(family: AnyFamily, message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  if (family === 'issuer-keys') {
    const issuerId = (message as { issuerId?: unknown }).issuerId;
    return typeof issuerId === 'string' ? issuerId : undefined;
  }
  let body: unknown = message;
  const manifest = family === 'egress-manifest' || family === 'ingress-manifest';
  if (family === 'directory' || family === 'ingress-cert' || manifest) {
    body = unverifiedPayload(message);
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const id = manifest ? (body as { relayId?: unknown }).relayId : (body as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}
