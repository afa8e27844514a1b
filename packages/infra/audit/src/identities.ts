/**
 * What each party must never learn, as identities for the evidence search: the target (from
 * the run's canaries), the content the client encrypts end to end to the target, and the
 * client (its addresses, its subscriber credential, the tokens it redeemed).
 */
import type { Identity } from '@splitrelay/evidence';
import { CANARY_PORT_RANGE, type Canaries } from './canaries.ts';

/** The CONNECT-UDP template path (RFC 9298 §2): present only where an inner request was parsed. */
export const UDP_TEMPLATE = '/.well-known/masque/udp/';

export function targetIdentities(c: Canaries): Identity[] {
  const hosts: { host: string; what: string }[] = [
    { host: c.targetName, what: 'target name' },
    { host: c.targetV4, what: 'target IPv4' },
    ...(c.targetV6 ? [{ host: c.targetV6, what: 'target IPv6' }] : []),
  ];
  const ports = [
    { port: c.httpsPort, what: 'HTTPS port' },
    { port: c.udpPort, what: 'UDP echo port' },
    { port: c.dnsPort, what: 'DNS port' },
  ];
  return [
    { kind: 'dns-name', name: c.targetName, label: 'target name' },
    { kind: 'dns-name', name: c.dnsQuestion, label: 'DNS question name' },
    { kind: 'ip', address: c.targetV4, label: 'target IPv4' },
    ...(c.targetV6 ? [{ kind: 'ip' as const, address: c.targetV6, label: 'target IPv6' }] : []),
    ...hosts.flatMap((h) =>
      ports.map((p): Identity => ({
        kind: 'endpoint',
        host: h.host,
        port: p.port,
        label: `${h.what} with the ${p.what}`,
      })),
    ),
    // A bare port is a canary only when drawn for this run (a live DNS port is 53 for all).
    ...ports
      .filter((p) => p.port >= CANARY_PORT_RANGE.min && p.port <= CANARY_PORT_RANGE.max)
      .map((p): Identity => ({ kind: 'port', port: p.port, label: `target ${p.what}` })),
  ];
}

/** The UDP template is a target fact only an inner-request parser would have. */
export const udpTemplateIdentity: Identity = {
  kind: 'text',
  text: UDP_TEMPLATE,
  label: 'UDP template (CONNECT-UDP path)',
};

/** What the client sends inside TLS to the target: only the target may read it. */
export function protectedContentIdentities(c: Canaries): Identity[] {
  return [
    { kind: 'text', text: c.path, label: 'request path' },
    { kind: 'text', text: c.headerValue, label: 'request header value' },
    { kind: 'text', text: c.postBody, label: 'request body' },
    { kind: 'text', text: c.page, label: 'page content' },
    { kind: 'text', text: c.bulkMarker, label: 'bulk transfer content' },
  ];
}

/** Sent in clear over UDP: the egress forwards it as is, so only the ingress must not see it. */
export function udpContentIdentities(c: Canaries): Identity[] {
  return [{ kind: 'text', text: c.udpPayload, label: 'UDP payload' }];
}

export interface RedeemedToken {
  /** The whole token (RFC 9577 §2.2), its nonce and its authenticator. */
  readonly token: Uint8Array;
  readonly nonce: Uint8Array;
  readonly authenticator: Uint8Array;
}

export interface ClientFacts {
  readonly addresses: readonly string[];
  readonly credential?: string;
  readonly tokens: readonly RedeemedToken[];
}

/** The client's addresses, its subscriber credential and every token it redeemed. */
export function clientIdentities(client: ClientFacts): Identity[] {
  return [
    ...client.addresses.map((address): Identity => ({
      kind: 'ip',
      address,
      label: `client address ${address}`,
    })),
    ...(client.credential
      ? [{ kind: 'text' as const, text: client.credential, label: 'subscriber credential' }]
      : []),
    ...tokenIdentities(client.tokens),
  ];
}

/** A redeemed token's nonce and authenticator: what would join the issuer's and ingress's records. */
export function tokenIdentities(tokens: readonly RedeemedToken[]): Identity[] {
  return tokens.flatMap((t, i): Identity[] => [
    { kind: 'bytes', bytes: t.nonce, label: `token ${i + 1} nonce` },
    { kind: 'bytes', bytes: t.authenticator, label: `token ${i + 1} authenticator` },
  ]);
}
