/** Schema pieces every app's config shares, so each is validated the same way everywhere. */
import { z } from 'zod';
import {
  RELAY_ID,
  RELAY_ID_RULE,
  isCanonicalHost,
  parseAuthority,
  type Authority,
} from '@splitrelay/authority';

/** Hosts are read by @splitrelay/authority here too: a config names hosts as a CONNECT does. */
function listenAuthority(address: string): Authority | undefined {
  try {
    return parseAuthority(address, { allowPortZero: true });
  } catch {
    return undefined;
  }
}

/** `host:port` with a bracketed IPv6 literal allowed; port 0 lets the OS pick (tests). */
export const listenAddress = z
  .string()
  .refine((s) => listenAuthority(s) !== undefined, 'expected host:port (IPv6 in brackets)');

/** True for a listen address on the loopback interface (127/8, ::1 or localhost). */
export function isLoopbackAddress(address: string): boolean {
  const a = listenAuthority(address);
  if (a === undefined) return false;
  return (
    (a.kind === 'ipv4' && a.host.startsWith('127.')) ||
    (a.kind === 'ipv6' && a.host === '::1') ||
    (a.kind === 'dns' && a.host === 'localhost')
  );
}

/** An egress, ingress or issuer id: @splitrelay/authority's relay-id rule. */
export const relayId = z.string().regex(RELAY_ID, RELAY_ID_RULE);

/** A DNS name in the one spelling the authority parser gives (lower case, no trailing dot). */
export const dnsName = z
  .string()
  .max(253)
  .refine((s) => isCanonicalHost(s, 'dns'), 'must be a lower-case DNS name');

export const durationMs = z
  .number()
  .int()
  .min(1)
  .max(24 * 3600 * 1000);

export const filePath = z.string().min(1);

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * A validated listen address as `net.listen` wants it: the canonical host (IPv6 without
 * brackets) and the port. Throws RelayError('malformed-request') for anything else.
 */
export function splitHostPort(address: string): { host: string; port: number } {
  const { host, port } = parseAuthority(address, { allowPortZero: true });
  return { host, port };
}

/**
 * Where a relay reaches the control plane (NATS). Relays keep serving on the last verified
 * state while it is unreachable (fail static) and catch up when it returns.
 */
export const controlPlaneFields = {
  servers: z
    .array(z.string().regex(/^nats:\/\/[^\s/]+$/, 'expected nats://host:port'))
    .min(1)
    .describe('NATS servers (several for a cluster).'),
  user: z.string().min(1).max(64).describe("NATS user of this operator's account."),
  password: z.string().min(1).max(256).describe('Its password.'),
  heartbeatMs: durationMs
    .default(2000)
    .describe('Heartbeat interval; peers count this relay down after three missed.'),
};

/** Optional operator health endpoint: plain HTTP, meant for loopback. */
export const healthEndpoint = z
  .strictObject({
    listen: listenAddress.describe(
      'GET /health here (plain HTTP, keep it on loopback); a relay also serves its signed manifest here, and an egress its geofeed.',
    ),
  })
  .optional()
  .describe('Health endpoint for the operator.');

/**
 * A relay's signed operator manifest: the file its operator's sign-manifest tool wrote from
 * this same config, and the key to check it with. The relay refuses to start when it does
 * not verify or claims anything other than what the relay runs with.
 */
export const manifestFields = {
  file: filePath.describe(
    'Signed manifest (sign-manifest --config <this file>), served at /.well-known/splitrelay/manifest and published on the control plane.',
  ),
  operatorPublicKey: filePath.describe(
    "The operator's Ed25519 public key (PEM) that signed it (the key that signs its directory entries or trunk certificates).",
  ),
  retention: z
    .strictObject({
      logsDays: z.int().min(0).max(3650).describe("Days the operator keeps this relay's logs."),
      metricsDays: z
        .int()
        .min(0)
        .max(3650)
        .describe('Days the operator keeps its aggregate metrics.'),
    })
    .describe('What the manifest promises about retention (the operator keeps the promise).'),
};

export const manifestConfig = z
  .strictObject(manifestFields)
  .optional()
  .describe(
    'Signed operator manifest of the privacy-relevant settings (docs/egress-addresses.md).',
  );
