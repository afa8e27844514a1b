/** Schema pieces every app's config shares, so each is validated the same way everywhere. */
import { z } from 'zod';

const hostRe = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/;

/** `host:port` with a bracketed IPv6 literal allowed; port 0 lets the OS pick (tests). */
export const listenAddress = z.string().refine((s) => {
  const i = s.lastIndexOf(':');
  if (i <= 0) return false;
  const port = Number(s.slice(i + 1));
  return hostRe.test(s.slice(0, i)) && Number.isInteger(port) && port >= 0 && port <= 65535;
}, 'expected host:port (IPv6 in brackets)');

export const durationMs = z
  .number()
  .int()
  .min(1)
  .max(24 * 3600 * 1000);

export const filePath = z.string().min(1);

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(i + 1)) };
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
