/** The ingress's configuration: one strict schema (docs/config.md is generated from it). */
import { z } from 'zod';
import { OHTTP_RELAY_PREFIX } from '@splitrelay/directory';
import {
  controlPlaneFields,
  durationMs,
  filePath,
  healthEndpoint,
  listenAddress,
  logLevel,
  manifestFields,
  relayId,
} from '@splitrelay/config';

export const ingressConfigSchema = z
  .strictObject({
    listen: listenAddress.describe('Client-facing TLS listener, host:port.'),
    tls: z
      .strictObject({
        cert: filePath.describe('Certificate chain (PEM) presented to clients.'),
        key: filePath.describe('Private key (PEM) of that certificate.'),
      })
      .describe('TLS identity towards clients.'),
    trunk: z
      .strictObject({
        cert: filePath.describe('Client certificate (PEM) this ingress presents to egresses.'),
        key: filePath.describe('Its private key (PEM).'),
        localAddress: z.string().optional().describe('Source address for trunk connections.'),
        connectTimeoutMs: durationMs.default(5000).describe('Trunk connect and answer timeout.'),
        maxStreamsPerConnection: z
          .int()
          .min(1)
          .max(100_000)
          .default(1000)
          .describe('Client sessions per trunk connection before another opens.'),
        maxConnectionsPerEgress: z
          .int()
          .min(1)
          .max(64)
          .default(4)
          .describe('Trunk connections per egress at most.'),
      })
      .describe('Mutually authenticated HTTP/2 trunk to the egresses.'),
    directory: z
      .strictObject({
        file: filePath
          .optional()
          .describe('Signed egress directory (JSON); with a control plane, optional seed.'),
        operatorKeys: z
          .array(z.strictObject({ kid: z.string().optional(), publicKey: filePath }))
          .min(1)
          .describe("Egress operators' Ed25519 public keys (PEM) trusted to sign entries."),
        reloadMs: durationMs
          .default(60_000)
          .describe('How often the file is read and verified again.'),
      })
      .describe('Which egresses exist: the only places this ingress ever connects to.'),
    controlPlane: z
      .strictObject({
        ...controlPlaneFields,
        ingressId: relayId.describe('This ingress in heartbeats (a DNS label).'),
        trunkCertAnnouncement: filePath
          .optional()
          .describe(
            "Signed announcement of this ingress's trunk certificate (sign-trunk-cert), published so egresses admit it.",
          ),
      })
      .optional()
      .describe('NATS control plane: signed directory and health in, heartbeats out.'),
    health: healthEndpoint,
    admission: z
      .strictObject({
        rateLimit: z
          .strictObject({
            sessionsPerSecond: z
              .number()
              .positive()
              .max(1_000_000)
              .default(20)
              .describe('New sessions per second one client address may open, sustained.'),
            burst: z
              .int()
              .min(1)
              .max(1_000_000)
              .default(100)
              .describe('New sessions one client address may open at once.'),
            maxAddresses: z
              .int()
              .min(1000)
              .max(10_000_000)
              .default(100_000)
              .describe('Addresses tracked at most (least recently seen forgotten first).'),
          })
          .default({ sessionsPerSecond: 20, burst: 100, maxAddresses: 100_000 })
          .describe(
            'Per client address (IPv6 by /64) new-session rate; beyond it 429 with Retry-After.',
          ),
        privacyPass: z
          .strictObject({
            issuerName: z
              .string()
              .min(1)
              .max(255)
              .describe('The issuer whose tokens are redeemed (issuer_name of the challenge).'),
            origin: z
              .string()
              .min(1)
              .max(255)
              .describe(
                "This ingress fleet's public name, bound into every challenge (origin_info).",
              ),
            keys: z
              .array(
                z.strictObject({
                  tokenKey: z.string().min(1).describe('Issuer token key, base64url SPKI.'),
                  notBefore: z.int().min(0).describe('Unix seconds from which it is valid.'),
                  notAfter: z.int().min(1).describe('Unix seconds at which it expires.'),
                }),
              )
              .default([])
              .describe(
                'Issuer keys given here; with a control plane the issuer announces its keys too.',
              ),
            spentTokens: z
              .strictObject({
                bucket: z
                  .string()
                  .regex(/^[A-Za-z0-9_-]{1,64}$/)
                  .default('splitrelay-spent-tokens')
                  .describe("JetStream KV bucket in the ingress operator's NATS account."),
                ttlSeconds: z
                  .int()
                  .min(60)
                  .max(90 * 86400)
                  .default(8 * 86400)
                  .describe(
                    'How long a spent token is remembered; issuer keys living longer are refused.',
                  ),
                timeoutMs: durationMs
                  .default(2000)
                  .describe('Deadline of one claim; beyond it redemption fails closed (503).'),
                replicas: z
                  .int()
                  .min(1)
                  .max(5)
                  .default(1)
                  .describe('KV replicas (3 on a cluster).'),
              })
              .default({
                bucket: 'splitrelay-spent-tokens',
                ttlSeconds: 8 * 86400,
                timeoutMs: 2000,
                replicas: 1,
              })
              .describe(
                'Where spent tokens are recorded: NATS KV with a control plane, else this process.',
              ),
            maxHeaderChars: z
              .int()
              .min(256)
              .max(8192)
              .default(1024)
              .describe('Longest Proxy-Authorization read at all.'),
          })
          .optional()
          .describe(
            'Privacy Pass (RFC 9577/9578): one token per client session; absent, no token is asked.',
          ),
      })
      .default({ rateLimit: { sessionsPerSecond: 20, burst: 100, maxAddresses: 100_000 } })
      .describe('Who may open a session: rate per client address, then a Privacy Pass token.'),
    ohttp: z
      .strictObject({
        relayPrefix: z
          .string()
          .regex(/^\/[A-Za-z0-9._~/-]*\/$/, 'must be a path ending in /')
          .default(OHTTP_RELAY_PREFIX)
          .describe(
            'Path prefix of the relay resources: clients POST to <relayPrefix><egress-id>.',
          ),
        maxRequestBytes: z
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(1024 * 1024)
          .describe('Largest encapsulated request relayed (413 beyond).'),
        maxResponseBytes: z
          .int()
          .min(1024)
          .max(256 * 1024 * 1024)
          .default(16 * 1024 * 1024)
          .describe(
            'Largest answer relayed back; a larger one is cut off (the client sees a failed answer).',
          ),
        timeoutMs: durationMs
          .default(30_000)
          .describe(
            'One whole exchange: 408 if the client was still sending, 504 if the gateway was answering.',
          ),
        rateLimit: z
          .strictObject({
            requestsPerSecond: z
              .number()
              .positive()
              .max(1_000_000)
              .default(50)
              .describe('Requests per second one client address may relay, sustained.'),
            burst: z
              .int()
              .min(1)
              .max(1_000_000)
              .default(200)
              .describe('Requests one client address may relay at once.'),
          })
          .default({ requestsPerSecond: 50, burst: 200 })
          .describe('Per client address (IPv6 by /64); beyond it 429 with Retry-After.'),
        requestsPerToken: z
          .int()
          .min(1)
          .max(1_000_000)
          .default(1)
          .describe(
            'With admission.privacyPass: one token pays for this many requests on one client connection (401 with a challenge when none is left).',
          ),
      })
      .optional()
      .describe(
        'Oblivious HTTP relay (RFC 9458) to each egress whose signed entry lists ohttpKeys, and the keys at /.well-known/ohttp-keys/<egress-id>. Absent: neither is served.',
      ),
    timeouts: z
      .strictObject({
        handshakeMs: durationMs
          .default(10_000)
          .describe('TLS handshake and request head deadline.'),
        idleMs: durationMs
          .default(300_000)
          .describe('A tunnel with no bytes either way for this long is closed.'),
      })
      .default({ handshakeMs: 10_000, idleMs: 300_000 }),
    limits: z
      .strictObject({
        maxHeaderBytes: z
          .int()
          .min(1024)
          .max(65_536)
          .default(8192)
          .describe('Largest request head (431 beyond).'),
      })
      .default({ maxHeaderBytes: 8192 }),
    log: z
      .strictObject({
        level: logLevel.default('info'),
        statsIntervalMs: durationMs
          .default(60_000)
          .describe('Aggregate counters are logged this often; no per-flow records.'),
      })
      .default({ level: 'info', statsIntervalMs: 60_000 }),
    proxyName: z
      .string()
      .min(1)
      .max(64)
      .default('splitrelay-ingress')
      .describe('Name in Proxy-Status members.'),
    manifest: z
      .strictObject({
        ...manifestFields,
        ingressId: z
          .string()
          .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
          .optional()
          .describe('This ingress in its manifest (a DNS label); default controlPlane.ingressId.'),
      })
      .optional()
      .describe(
        'Signed operator manifest of the privacy-relevant settings, served at /.well-known/splitrelay/manifest on the client listener (docs/egress-addresses.md).',
      ),
  })
  .refine((c) => c.directory.file !== undefined || c.controlPlane !== undefined, {
    message: 'needs directory.file, controlPlane, or both: a source of egresses',
    path: ['directory'],
  })
  .refine((c) => !c.manifest || (c.manifest.ingressId ?? c.controlPlane?.ingressId), {
    message: 'names no ingress: set manifest.ingressId (or controlPlane.ingressId)',
    path: ['manifest', 'ingressId'],
  })
  .refine(
    (c) =>
      c.manifest?.ingressId === undefined ||
      c.controlPlane === undefined ||
      c.manifest.ingressId === c.controlPlane.ingressId,
    { message: 'must equal controlPlane.ingressId', path: ['manifest', 'ingressId'] },
  );

export type IngressConfig = z.output<typeof ingressConfigSchema>;
