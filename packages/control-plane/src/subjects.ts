/**
 * The four subject families that cross between the ingress and egress operators' NATS
 * accounts (CONTROL-PLANE.md). The last token is the id of the relay the message is about,
 * a DNS label, so a subject can never carry anything but a relay's own name.
 *
 *   splitrelay.directory.entry.<egressId>       signed directory entry
 *   splitrelay.health.egress.<egressId>         egress heartbeat
 *   splitrelay.health.ingress.<ingressId>       ingress heartbeat
 *   splitrelay.trunk.ingress-cert.<ingressId>   signed ingress trunk certificate
 */
import { EGRESS_ID } from '@splitrelay/directory';

export type Family = 'directory' | 'egress-health' | 'ingress-health' | 'ingress-cert';

export const FAMILIES: readonly Family[] = Object.freeze([
  'directory',
  'egress-health',
  'ingress-health',
  'ingress-cert',
]);

/** Relay ids (egress and ingress alike) are DNS labels: 1-63 of [a-z0-9-], no edge hyphen. */
export const RELAY_ID: RegExp = EGRESS_ID;

const PREFIXES: Readonly<Record<Family, string>> = Object.freeze({
  directory: 'splitrelay.directory.entry',
  'egress-health': 'splitrelay.health.egress',
  'ingress-health': 'splitrelay.health.ingress',
  'ingress-cert': 'splitrelay.trunk.ingress-cert',
});

export function isRelayId(id: unknown): id is string {
  return typeof id === 'string' && RELAY_ID.test(id);
}

/** The subject of one relay's messages in a family. A bad id is the caller's bug: TypeError. */
export function subjectFor(family: Family, id: string): string {
  if (!isRelayId(id)) throw new TypeError(`not a relay id (DNS label): ${JSON.stringify(id)}`);
  return `${PREFIXES[family]}.${id}`;
}

/** The subscription subject matching every relay of a family (`*` is exactly one token). */
export function familyWildcard(family: Family): string {
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

/** Splits a subject into its family and relay id; undefined for anything else. */
export function parseSubject(subject: string): { family: Family; id: string } | undefined {
  const dot = subject.lastIndexOf('.');
  if (dot < 0) return undefined;
  const prefix = subject.slice(0, dot);
  const id = subject.slice(dot + 1);
  if (!isRelayId(id)) return undefined;
  const family = FAMILIES.find((f) => PREFIXES[f] === prefix);
  return family === undefined ? undefined : { family, id };
}
