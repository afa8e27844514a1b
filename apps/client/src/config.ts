/** The client's configuration: one strict schema (docs/config.md is generated from it). */
import { z } from 'zod';
import {
  durationMs,
  filePath,
  isLoopbackAddress,
  listenAddress,
  logLevel,
  relayId,
} from '@splitrelay/config';

const loopbackListen = listenAddress.refine(
  isLoopbackAddress,
  'local proxies listen on loopback only',
);

export const clientConfigSchema = z.strictObject({
  ingress: z
    .strictObject({
      address: listenAddress.describe('The ingress relay, host:port.'),
      servername: z.string().min(1).describe('Name checked against the ingress certificate.'),
      ca: filePath
        .optional()
        .describe('CA certificate (PEM) for the ingress; the system store when absent.'),
      carrier: z
        .enum(['connect', 'websocket'])
        .default('connect')
        .describe(
          'How the tunnel to the ingress is carried: HTTP/1.1 CONNECT, or WebSocket for networks that pass only WebSocket.',
        ),
    })
    .describe('The first hop.'),
  localAddress: z.string().optional().describe('Source address for the connection to the ingress.'),
  directory: z
    .strictObject({
      file: filePath
        .optional()
        .describe('Signed egress directory (JSON); when absent it is fetched from the ingress.'),
      refreshMs: durationMs
        .default(30_000)
        .describe('How often the directory (and egress health) is refreshed.'),
      operatorKeys: z
        .array(z.strictObject({ kid: z.string().optional(), publicKey: filePath }))
        .min(1)
        .describe("Egress operators' Ed25519 public keys (PEM) trusted to sign entries."),
    })
    .describe('Where egresses and their pinned keys come from.'),
  egress: z
    .strictObject({
      id: relayId.optional().describe('Use this egress only.'),
      region: z.string().optional().describe('Prefer egresses in this region.'),
    })
    .default({})
    .describe('Egress preference.'),
  location: z
    .strictObject({
      share: z
        .enum(['general-location', 'country-only', 'none'])
        .default('general-location')
        .describe(
          "What the egress may learn of where you are, so your source address is of that region: 'general-location' keeps your general location (a coarse geohash of latitude/longitude; the country when they are not set), 'country-only' uses only your country, 'none' sends nothing (the egress's default region). It goes to the egress only, inside the end-to-end encrypted session, never to the ingress.",
        ),
      country: z
        .string()
        .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code (e.g. DE)')
        .optional()
        .describe('Your country (ISO 3166-1 alpha-2). Also prefers egresses that serve it.'),
      latitude: z.number().min(-90).max(90).optional().describe('Latitude, degrees north.'),
      longitude: z.number().min(-180).max(180).optional().describe('Longitude, degrees east.'),
      precision: z
        .int()
        .min(1)
        .max(5)
        .default(4)
        .describe(
          'Geohash characters sent with general-location: 4 is a cell of about 39 x 20 km, 5 about 5 x 5 km.',
        ),
    })
    .refine((l) => (l.latitude === undefined) === (l.longitude === undefined), {
      message: 'give latitude and longitude together',
      path: ['latitude'],
    })
    .default({ share: 'general-location', precision: 4 })
    .describe('Location hint for the egress (Sec-CH-Geohash or Sec-CH-IP-Geo).'),
  tokens: z
    .strictObject({
      issuer: z
        .url({ protocol: /^https$/ })
        .describe("The Privacy Pass issuer's origin, e.g. https://issuer.example:8443."),
      ca: filePath
        .optional()
        .describe('CA certificate (PEM) for the issuer; the system store when absent.'),
      servername: z
        .string()
        .optional()
        .describe("Name checked against the issuer's certificate when not the URL's host."),
      credentialFile: filePath.describe(
        'File holding the subscriber credential the issuer checks (never sent to a relay).',
      ),
      batchSize: z.int().min(1).max(256).default(16).describe('Tokens fetched per request.'),
      refillBelow: z
        .int()
        .min(0)
        .max(256)
        .default(4)
        .describe('Fetch the next batch when fewer remain.'),
      predictChallenge: z
        .boolean()
        .default(true)
        .describe(
          "Fetch tokens at start for the challenge the fleet is expected to send (issuer: servername or the URL's host; origin: the ingress servername), so the first session needs no 407. A wrong guess costs a few tokens and one 407.",
        ),
    })
    .optional()
    .describe('Privacy Pass tokens for the ingress: one per session, fetched in batches.'),
  socks: z
    .strictObject({
      listen: loopbackListen.describe('SOCKS5 proxy address (loopback).'),
      udpBufferBytes: z
        .int()
        .min(4096)
        .max(256 * 1024 * 1024)
        .default(4 * 1024 * 1024)
        .describe(
          'Receive and send buffer asked for each UDP ASSOCIATE socket, bytes, so bursts fit while the client is busy (the kernel caps it at net.core.rmem_max / wmem_max).',
        ),
    })
    .optional()
    .describe('Local SOCKS5 proxy (CONNECT; names are resolved at the egress).'),
  http: z
    .strictObject({ listen: loopbackListen.describe('HTTP proxy address (loopback).') })
    .optional()
    .describe('Local HTTP proxy (CONNECT and absolute-form http:// requests).'),
  ohttp: z
    .strictObject({
      listen: loopbackListen
        .optional()
        .describe(
          'Loopback HTTP endpoint that sends each request as Oblivious HTTP (GET https://host/path as a proxy, or GET /https://host/path).',
        ),
      relayPrefix: z
        .string()
        .regex(/^\/[A-Za-z0-9._~/-]*\/$/, 'must be a path ending in /')
        .optional()
        .describe("The ingress's relay path prefix, when not the default."),
      kem: z
        .enum(['x25519', 'x-wing'])
        .default('x25519')
        .describe(
          'Which gateway key to prefer where the egress lists both (x-wing: post-quantum hybrid).',
        ),
      timeoutMs: durationMs.default(30_000).describe('Until the relay answers one request.'),
    })
    .optional()
    .describe('Oblivious HTTP (RFC 9458) through the ingress relay and the egress gateway.'),
  dns: z
    .strictObject({
      listen: loopbackListen.describe('DNS server address (loopback), UDP and TCP.'),
      tcp: z.boolean().default(true).describe('Answer over TCP too, at the same address.'),
      authority: z
        .string()
        .min(1)
        .max(253)
        .optional()
        .describe("The gateway's DoH name, when not the default (dns.splitrelay.invalid)."),
      timeoutMs: durationMs.default(5000).describe('One query, then SERVFAIL.'),
    })
    .optional()
    .describe(
      'A local DNS server: each query goes as DoH through Oblivious HTTP to the egress resolver, on its own.',
    ),
  timeouts: z
    .strictObject({
      handshakeMs: durationMs.default(10_000).describe('Outer and inner handshakes.'),
      flowMs: durationMs.default(15_000).describe('Wait for the egress to answer a new flow.'),
    })
    .default({ handshakeMs: 10_000, flowMs: 15_000 }),
  log: z
    .strictObject({
      level: logLevel.default('info'),
      statsIntervalMs: durationMs
        .default(60_000)
        .describe(
          "Aggregate counters (UDP datagrams and where they were dropped, the kernel's drops included) are logged this often.",
        ),
    })
    .default({ level: 'info', statsIntervalMs: 60_000 }),
});

export type ClientConfig = z.output<typeof clientConfigSchema>;
