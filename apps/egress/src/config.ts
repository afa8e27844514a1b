/** The egress's configuration: one strict schema (docs/config.md is generated from it). */
import { z } from 'zod';
import { compilePolicy } from '@splitrelay/target-policy';
import { DOH_AUTHORITY } from '@splitrelay/ohttp';
import {
  egressAddressesSchema,
  hostRouteProblems,
  type Prefix,
} from '@splitrelay/egress-addresses';
import {
  controlPlaneFields,
  durationMs,
  filePath,
  healthEndpoint,
  listenAddress,
  logLevel,
  manifestConfig,
  relayId,
} from '@splitrelay/config';

const portSpec = z.union([
  z.int().min(1).max(65535),
  z.tuple([z.int().min(1).max(65535), z.int().min(1).max(65535)]),
]);

export const egressConfigSchema = z
  .strictObject({
    egressId: relayId.describe("This egress's id in the directory."),
    listen: listenAddress.describe('Trunk listener (ingresses connect here), host:port.'),
    tls: z
      .strictObject({
        cert: filePath.describe(
          'Certificate (PEM) for the trunk and the inner sessions; its key is pinned in the directory.',
        ),
        key: filePath.describe('Its private key (PEM).'),
      })
      .describe('TLS identity of this egress.'),
    knownIngresses: z
      .array(z.strictObject({ name: z.string().min(1).max(64), cert: filePath }))
      .default([])
      .describe(
        'Ingress relays admitted on the trunk, by their exact client certificate (PEM); the control plane can announce more.',
      ),
    controlPlane: z
      .strictObject({
        ...controlPlaneFields,
        entryFile: filePath.describe(
          "Directory file holding this egress's signed entry (sign-entry); re-read at every announcement, so a re-signed entry goes out without a restart.",
        ),
        announceMs: durationMs.default(5000).describe('How often the signed entry is published.'),
        ingressOperatorKeys: z
          .array(z.strictObject({ kid: z.string().optional(), publicKey: filePath }))
          .default([])
          .describe(
            "Ingress operators' Ed25519 public keys: trunk certificates they announce are admitted.",
          ),
      })
      .optional()
      .describe(
        'NATS control plane: signed entry and heartbeats out, announced ingress certificates in.',
      ),
    health: healthEndpoint,
    policy: z
      .strictObject({
        allowCidrs: z
          .array(z.string())
          .default([])
          .describe(
            'Ranges allowed although built-in rules deny them (e.g. 127.0.0.0/8 for tests).',
          ),
        denyCidrs: z
          .array(z.string())
          .default([])
          .describe('Extra ranges to refuse; they win over allowCidrs.'),
        allowPorts: z
          .array(portSpec)
          .optional()
          .describe('When set, only these ports (or [from, to] ranges).'),
        denyPorts: z.array(portSpec).min(1).optional().describe('Ports always refused.'),
      })
      .default({ allowCidrs: [], denyCidrs: [] })
      .superRefine((policy, ctx) => {
        // The policy compiler is the one judge of CIDRs and port specs: ask it now, so a bad
        // policy is reported with every other config problem instead of at first use.
        try {
          compilePolicy(policy);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            message: err instanceof Error ? err.message : String(err),
          });
        }
      })
      .describe(
        'Which targets this egress connects to. Private, loopback, link-local, CGNAT, multicast, metadata and IPv4-mapped ranges are refused by default.',
      ),
    dns: z
      .strictObject({
        hosts: z
          .record(z.string().min(1).max(253), z.array(z.ipv4().or(z.ipv6())).min(1))
          .default({})
          .describe('Static names answered before any resolver (still subject to the policy).'),
        servers: z
          .array(z.string().min(1))
          .min(1)
          .optional()
          .describe('DNS servers (ip or ip:port) to query instead of the system resolver.'),
      })
      .default({ hosts: {} })
      .describe('Name resolution: targets are always resolved here, at the egress.'),
    localAddress: z
      .string()
      .optional()
      .describe('Source address for connections to targets, when no address pools are set.'),
    addresses: egressAddressesSchema
      .optional()
      .describe(
        'Source address pools per region: each inner session draws its source addresses at random from the pool of the region its geo hint (or, without one, defaultRegion) selects (docs/egress-addresses.md). Every prefix must be local on this host (configured addresses or AnyIP `ip route add local <prefix> dev lo`); start-up checks.',
      ),
    ohttp: z
      .strictObject({
        keyRing: filePath.describe(
          'The gateway key ring (splitrelay-ohttp-keys): every key held, published ones first; re-read on SIGHUP.',
        ),
        ca: filePath
          .optional()
          .describe(
            'CA certificates (PEM) trusted for https targets instead of the system store (a private PKI, tests).',
          ),
        maxRequestBytes: z
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(1024 * 1024)
          .describe('Largest encapsulated request (413 beyond).'),
        maxResponseBytes: z
          .int()
          .min(1024)
          .max(256 * 1024 * 1024)
          .default(8 * 1024 * 1024)
          .describe(
            'Largest target answer: refused inside the encapsulation (plain), or cut off (chunked).',
          ),
        maxConcurrent: z
          .int()
          .min(1)
          .max(1_000_000)
          .default(10_000)
          .describe('Requests in progress at once, all ingresses together (503 beyond).'),
        timeouts: z
          .strictObject({
            requestMs: durationMs.default(30_000).describe('Receiving one encapsulated request.'),
            targetHeadersMs: durationMs.default(15_000).describe("The target's response head."),
            targetBodyMs: durationMs
              .default(15_000)
              .describe("Between two pieces of the target's body."),
          })
          .default({ requestMs: 30_000, targetHeadersMs: 15_000, targetBodyMs: 15_000 }),
        doh: z
          .strictObject({
            upstream: z
              .string()
              .min(1)
              .optional()
              .describe(
                "The egress's own resolver, ip or ip:port; default dns.servers' first, else the system's first.",
              ),
            authority: z
              .string()
              .min(1)
              .max(253)
              .default(DOH_AUTHORITY)
              .describe(
                'The name clients send DoH requests to (a .invalid name: nobody else answers it).',
              ),
            timeoutMs: durationMs.default(5000).describe('One DNS query.'),
          })
          .optional()
          .describe('DNS over HTTPS (RFC 8484), only through the gateway. Absent: refused.'),
      })
      .optional()
      .describe(
        'Oblivious HTTP gateway (RFC 9458) on the trunk, under the same target policy as tunnels. Absent: none.',
      ),
    timeouts: z
      .strictObject({
        handshakeMs: durationMs.default(10_000).describe('Trunk and inner TLS handshake deadline.'),
        idleMs: durationMs
          .default(300_000)
          .describe('A flow with no bytes either way for this long is closed.'),
        connectMs: durationMs.default(10_000).describe('Connect to a target.'),
        dnsMs: durationMs.default(5000).describe('Resolve a target name.'),
      })
      .default({ handshakeMs: 10_000, idleMs: 300_000, connectMs: 10_000, dnsMs: 5000 }),
    limits: z
      .strictObject({
        maxHeaderBytes: z
          .int()
          .min(1024)
          .max(65_536)
          .default(8192)
          .describe('Largest HTTP/1.1 inner request head (431 beyond).'),
        maxSessionsPerIngress: z
          .int()
          .min(1)
          .max(10_000_000)
          .optional()
          .describe(
            'Concurrent client sessions one ingress relay may hold here, counted by its trunk certificate name; beyond, a new session is refused with 503 (connection_limit_reached) and Retry-After. Default: capacity. Set it lower when several ingress operators share this egress.',
          ),
        maxFlowsPerSession: z
          .int()
          .min(1)
          .max(1_000_000)
          .default(1000)
          .describe(
            "Concurrent flows (TCP and UDP) in one inner session, advertised as HTTP/2's max concurrent streams: a client waits for a free slot.",
          ),
        sessionLimitRetryAfterSeconds: z
          .int()
          .min(1)
          .max(3600)
          .default(5)
          .describe('Retry-After sent with a session refused at maxSessionsPerIngress.'),
        maxFlows: z
          .int()
          .min(1)
          .max(10_000_000)
          .optional()
          .describe(
            'Concurrent flows (TCP and UDP) across every session, each holding a socket to its target; beyond, a new flow is refused with 503 (connection_limit_reached) and Retry-After. Default: no cap but maxFlowsPerSession.',
          ),
        flowLimitRetryAfterSeconds: z
          .int()
          .min(1)
          .max(3600)
          .default(1)
          .describe('Retry-After sent with a flow refused at maxFlows.'),
      })
      .default({
        maxHeaderBytes: 8192,
        maxFlowsPerSession: 1000,
        sessionLimitRetryAfterSeconds: 5,
        flowLimitRetryAfterSeconds: 1,
      }),
    capacity: z
      .int()
      .min(1)
      .max(10_000_000)
      .default(100_000)
      .describe(
        'Client sessions this egress is sized for (its heartbeat reports load against it).',
      ),
    log: z
      .strictObject({
        level: logLevel.default('info'),
        statsIntervalMs: durationMs
          .default(60_000)
          .describe('Aggregate counters are logged this often; no per-flow records.'),
        flows: z
          .boolean()
          .default(false)
          .describe(
            'Log each refused flow with its target (never a client address). Off by default.',
          ),
      })
      .default({ level: 'info', statsIntervalMs: 60_000, flows: false }),
    proxyName: z
      .string()
      .min(1)
      .max(64)
      .default('splitrelay-egress')
      .describe('Name in Proxy-Status members.'),
    manifest: manifestConfig,
  })
  .refine(
    (c) => c.knownIngresses.length > 0 || (c.controlPlane?.ingressOperatorKeys.length ?? 0) > 0,
    {
      message: 'admits no ingress: list knownIngresses, or controlPlane.ingressOperatorKeys',
      path: ['knownIngresses'],
    },
  )
  .refine((c) => c.manifest === undefined || c.addresses !== undefined, {
    message: 'an egress manifest states its address pools: set addresses',
    path: ['manifest'],
  })
  .refine((c) => c.addresses === undefined || c.localAddress === undefined, {
    message: 'set addresses (pools drawn per session) or localAddress (one source), not both',
    path: ['localAddress'],
  });

export type EgressConfig = z.output<typeof egressConfigSchema>;

/** What a start-up reads of this host to judge the pools. */
export interface HostFacts {
  /** The `local` routes of table local. */
  readonly localRoutes: readonly Prefix[];
  /** net.ipv6.ip_nonlocal_bind: without it Linux binds IPv6 sources to assigned addresses only. */
  readonly ipv6NonlocalBind: boolean;
}

/**
 * The schema as a start-up applies it: also every pool prefix must be local on this host,
 * judged from its local routing table, and IPv6 pools need net.ipv6.ip_nonlocal_bind (an
 * AnyIP range's addresses are local but not assigned, and Linux's IPv6 bind() looks only at
 * assigned ones). `host` is read only when pools are set; a string is why it could not be.
 * Runs even when other fields failed, so the operator reads every problem of the file at once.
 */
export function egressConfigSchemaOnHost(host: () => HostFacts | string) {
  return egressConfigSchema.superRefine(
    (config, ctx) => {
      // Read loosely: with `when`, this also runs on a config whose fields failed.
      const addresses = (config as { addresses?: unknown }).addresses;
      if (addresses === undefined) return;
      const facts = host();
      if (typeof facts === 'string') {
        ctx.addIssue({ code: 'custom', path: ['addresses'], message: facts });
        return;
      }
      for (const problem of hostRouteProblems(addresses, facts.localRoutes)) {
        ctx.addIssue({
          code: 'custom',
          path: ['addresses', ...problem.path],
          message: problem.message,
        });
      }
      const regions = (addresses as { regions?: unknown }).regions;
      const withIpv6 = (Array.isArray(regions) ? regions : []).flatMap((r: unknown, i) => {
        const v6 = (r as { ipv6?: unknown } | null)?.ipv6;
        return Array.isArray(v6) && v6.length > 0 ? [i] : [];
      });
      if (withIpv6.length > 0 && !facts.ipv6NonlocalBind) {
        ctx.addIssue({
          code: 'custom',
          path: ['addresses', 'regions', withIpv6[0] as number, 'ipv6'],
          message:
            'IPv6 pools need net.ipv6.ip_nonlocal_bind = 1: Linux binds an IPv6 source only to an assigned address, and the addresses of an AnyIP range are not assigned (`sysctl -w net.ipv6.ip_nonlocal_bind=1`, and keep it in /etc/sysctl.d/)',
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );
}
