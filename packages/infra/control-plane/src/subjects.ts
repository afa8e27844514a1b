/**
 * The six subject families that cross between the ingress and egress operators' NATS
 * accounts (docs/control-plane.md). The last token is the id of the relay the message is
 * about, a DNS label, so a subject can never carry anything but a relay's own name.
 *
 *   splitrelay.directory.entry.<egressId>       signed directory entry
 *   splitrelay.health.egress.<egressId>         egress heartbeat
 *   splitrelay.health.ingress.<ingressId>       ingress heartbeat
 *   splitrelay.trunk.ingress-cert.<ingressId>   signed ingress trunk certificate
 *   splitrelay.manifest.egress.<egressId>       signed operator manifest of an egress
 *   splitrelay.manifest.ingress.<ingressId>     signed operator manifest of an ingress
 *
 * One more family lives only inside the ingress operator's account and crosses nothing (no
 * account exports `splitrelay.private.>`): the token issuer's public keys, for its ingresses.
 *
 *   splitrelay.private.ingress.issuer-keys.<issuerId>   Privacy Pass issuer keys
 */
import { RELAY_ID, isRelayId } from '@splitrelay/authority';

/** The families that cross between the operators' accounts. */
export type Family =
  | 'directory'
  | 'egress-health'
  | 'ingress-health'
  | 'ingress-cert'
  | 'egress-manifest'
  | 'ingress-manifest';
/** Families that stay inside one operator's account. */
export type PrivateFamily = 'issuer-keys';
export type AnyFamily = Family | PrivateFamily;

export const FAMILIES: readonly Family[] = Object.freeze([
  'directory',
  'egress-health',
  'ingress-health',
  'ingress-cert',
  'egress-manifest',
  'ingress-manifest',
]);

export const PRIVATE_FAMILIES: readonly PrivateFamily[] = Object.freeze(['issuer-keys']);

/** Relay ids (egress, ingress and issuer alike) follow @splitrelay/authority's one rule. */
export { RELAY_ID, isRelayId };

const PREFIXES: Readonly<Record<AnyFamily, string>> = Object.freeze({
  directory: 'splitrelay.directory.entry',
  'egress-health': 'splitrelay.health.egress',
  'ingress-health': 'splitrelay.health.ingress',
  'ingress-cert': 'splitrelay.trunk.ingress-cert',
  'egress-manifest': 'splitrelay.manifest.egress',
  'ingress-manifest': 'splitrelay.manifest.ingress',
  // Under the ingress account's own `splitrelay.private.ingress.>`, which nothing exports.
  'issuer-keys': 'splitrelay.private.ingress.issuer-keys',
});

/** The subject of one relay's messages in a family. A bad id is the caller's bug: TypeError. */
export function subjectFor(family: AnyFamily, id: string): string {
  if (!isRelayId(id)) throw new TypeError(`not a relay id (DNS label): ${JSON.stringify(id)}`);
  return `${PREFIXES[family]}.${id}`;
}

/** The subscription subject matching every relay of a family (`*` is exactly one token). */
export function familyWildcard(family: AnyFamily): string {
  return `${PREFIXES[family]}.*`;
}

export function directorySubject(egressId: string): string {
  return subjectFor('directory', egressId);
}

export function egressHealthSubject(egressId: string): string {
  return subjectFor('egress-health', egressId);
}

export function ingressHealthSubject(ingressId: string): string {
  return subjectFor('ingress-health', ingressId);
}

export function ingressCertSubject(ingressId: string): string {
  return subjectFor('ingress-cert', ingressId);
}

/** The subject of one issuer's public keys (an issuer id is a DNS label like a relay id). */
export function issuerKeysSubject(issuerId: string): string {
  return subjectFor('issuer-keys', issuerId);
}

/** Every issuer's keys. */
export const ISSUER_KEYS_WILDCARD = familyWildcard('issuer-keys');

const ALL_FAMILIES: readonly AnyFamily[] = [...FAMILIES, ...PRIVATE_FAMILIES];

/** Manifests of one relay role, by family. */
export function manifestSubject(role: 'egress' | 'ingress', relayId: string): string {
  return subjectFor(role === 'egress' ? 'egress-manifest' : 'ingress-manifest', relayId);
}

/** Whether messages of `family` may cross between accounts (only those of FAMILIES do). */
export function crossesAccounts(family: AnyFamily): family is Family {
  return (FAMILIES as readonly AnyFamily[]).includes(family);
}

/** Splits a subject into its family and relay id; undefined for anything else. */
export function parseSubject(subject: string): { family: AnyFamily; id: string } | undefined {
  const dot = subject.lastIndexOf('.');
  if (dot < 0) return undefined;
  const prefix = subject.slice(0, dot);
  const id = subject.slice(dot + 1);
  if (!isRelayId(id)) return undefined;
  const family = ALL_FAMILIES.find((f) => PREFIXES[f] === prefix);
  return family === undefined ? undefined : { family, id };
}
