/**
 * What an auditor holds for a live audit, and nothing of the deployment's internals: the
 * client's settings (what any subscriber gets), a canary target the auditor runs, and the
 * AUDITOR account of the control plane. One strict schema, every problem reported at once.
 */
import { z } from 'zod';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port');
const file = z.string().min(1);

export const liveSettingsSchema = z.strictObject({
  ingress: z.strictObject({
    address: hostPort.describe('The ingress, host:port, as the deployment publishes it.'),
    servername: z.string().min(1).describe('Name checked against the ingress certificate.'),
    ca: file
      .optional()
      .describe('CA certificate (PEM) for the ingress; the system store when absent.'),
  }),
  directory: z.strictObject({
    operatorKeys: z
      .array(z.strictObject({ publicKey: file }))
      .min(1)
      .describe("The egress operators' public keys (PEM)."),
  }),
  tokens: z
    .strictObject({
      issuer: z.url().describe("The Privacy Pass issuer's origin."),
      ca: file.optional(),
      servername: z.string().optional(),
      credentialFile: file.describe("The auditor's own subscriber credential."),
    })
    .optional(),
  client: z.strictObject({
    localAddress: z
      .string()
      .min(1)
      .describe('The address the client connects from (its link is captured by it).'),
    captureInterface: z
      .string()
      .min(1)
      .default('any')
      .describe('Where tcpdump listens for the client link.'),
  }),
  canary: z.strictObject({
    listen: z
      .array(z.string().min(1))
      .min(1)
      .describe('Addresses the canary target listens on (reachable by the egresses).'),
    zone: z
      .string()
      .min(1)
      .describe("A DNS zone the canary's DNS server answers for (delegated to it)."),
    dnsPort: z
      .int()
      .min(1)
      .max(65535)
      .default(53)
      .describe("The canary DNS server's port (53 for a delegated zone)."),
    ca: z
      .strictObject({ cert: file, key: file })
      .describe('A CA the auditor holds: each run gets a certificate for its names.'),
    captureInterface: z
      .string()
      .min(1)
      .optional()
      .describe("Where tcpdump listens for the canary's link (none when absent)."),
  }),
  controlPlane: z
    .strictObject({
      servers: z.array(z.string().regex(/^nats:\/\/[^\s/]+$/)).min(1),
      user: z.string().min(1),
      password: z.string().min(1),
    })
    .optional()
    .describe('The AUDITOR account of the control plane.'),
  egressAddresses: z
    .array(z.string().min(1))
    .min(1)
    .describe("The egresses' published source addresses: the only sources the canary may see."),
  rotation: z
    .strictObject({ promised: z.boolean(), why: z.string().min(1) })
    .default({ promised: false, why: 'the deployment states no per-session source rotation' })
    .describe('Whether the deployment promises per-session egress source rotation.'),
});

export type LiveSettings = z.output<typeof liveSettingsSchema>;
