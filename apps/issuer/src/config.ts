/** The issuer's configuration: one strict schema (docs/config.md is generated from it). */
import { z } from 'zod';
import {
  controlPlaneFields,
  dnsName,
  durationMs,
  filePath,
  healthEndpoint,
  listenAddress,
  logLevel,
  relayId,
} from '@splitrelay/config';

/** RFC 9578 type 0x0002 TokenRequest: token_type(2) || truncated_token_key_id(1) || blinded_msg(256). */
export const TOKEN_REQUEST_BYTES = 2 + 1 + 256;
/** Year 2286: a later time in seconds is a unit mistake (milliseconds). */
const unixSeconds = z.int().min(0).max(10_000_000_000);

// The issuer sends no heartbeats: the shared interval would be a key that does nothing here.
const { heartbeatMs: _heartbeatMs, ...natsFields } = controlPlaneFields;

const fileAttester = z
  .strictObject({
    type: z.literal('file'),
    file: filePath.describe(
      'JSON array of { subscriber, credentialSha256 } records (hex SHA-256 of each Bearer credential); re-read on SIGHUP.',
    ),
  })
  .describe('Demo attester: subscribers present `Authorization: Bearer <credential>`.');

export const issuerConfigSchema = z.strictObject({
  listen: listenAddress.describe('HTTPS listener (HTTP/2 and HTTP/1.1 over TLS 1.3), host:port.'),
  tls: z
    .strictObject({
      cert: filePath.describe('Certificate chain (PEM) for the issuer name; re-read on SIGHUP.'),
      key: filePath.describe('Its private key (PEM).'),
    })
    .describe('TLS identity of the issuer.'),
  issuerName: dnsName.describe(
    'The issuer name clients put in their token challenges (a lower-case DNS name).',
  ),
  keys: z
    .array(
      z
        .strictObject({
          privateKey: filePath.describe(
            'RSA private key (PKCS#8 PEM) written by splitrelay-issuer-keygen.',
          ),
          notBefore: unixSeconds.describe('Unix seconds from which this key issues (inclusive).'),
          notAfter: unixSeconds.describe(
            'Unix seconds at which it stops (exclusive); ingresses are told this window, for accepting its tokens.',
          ),
        })
        .refine((k) => k.notBefore < k.notAfter, {
          message: 'must be after notBefore',
          path: ['notAfter'],
        }),
    )
    .min(1)
    .max(16)
    .describe(
      'Token keys (RFC 9578 type 0x0002, 2048-bit Blind RSA). List the old and the new key with overlapping windows to rotate; this list and the key files are re-read on SIGHUP.',
    ),
  attester: z
    .discriminatedUnion('type', [fileAttester])
    .describe('Who may get tokens: decides the subscriber behind a request, or refuses it.'),
  limits: z
    .strictObject({
      tokensPerSubscriberPerHour: z
        .int()
        .min(1)
        .max(1_000_000)
        .describe('Tokens one subscriber may get per hour (batches count each token).'),
      maxRequestBytes: z
        .int()
        .min(TOKEN_REQUEST_BYTES)
        .max(1_048_576)
        .describe(
          `Largest request body, single or batch (413 beyond); at least maxBatch × ${2 + TOKEN_REQUEST_BYTES}.`,
        ),
      maxBatch: z
        .int()
        .min(1)
        .max(1024)
        .default(32)
        .describe('Most token requests in one batch request (413 beyond).'),
    })
    .refine((l) => l.maxRequestBytes >= l.maxBatch * (2 + TOKEN_REQUEST_BYTES), {
      message: `must hold a full batch: maxBatch × ${2 + TOKEN_REQUEST_BYTES} bytes`,
      path: ['maxRequestBytes'],
    })
    .describe('Per-subscriber rate and request size bounds.'),
  controlPlane: z
    .strictObject({
      ...natsFields,
      issuerId: relayId.describe('This issuer in the key announcements (a DNS label).'),
      announceMs: durationMs
        .default(30_000)
        .describe('How often the current keys are announced (also at once on SIGHUP).'),
    })
    .optional()
    .describe(
      "NATS control plane (the ingress operator's account): the issuer announces its public keys to the ingresses.",
    ),
  health: healthEndpoint,
  log: z
    .strictObject({
      level: logLevel.default('info'),
      statsIntervalMs: durationMs
        .min(1000)
        .default(60_000)
        .describe('Aggregate counts (tokens issued, refusals by reason) are logged this often.'),
    })
    .default({ level: 'info', statsIntervalMs: 60_000 }),
});

export type IssuerConfig = z.output<typeof issuerConfigSchema>;
