/**
 * Which conversation a captured connection belongs to, by its two ends' addresses: the client
 * with the ingress, the ingress with an egress (the trunk), an egress with the target, and so
 * on. A link capture holds every conversation of its role; each check looks only at the ones
 * it is about.
 */
import type { CaptureDissection, Endpoint } from '@splitrelay/evidence';
import { AddressSet } from './addresses.ts';

type Side = 'client' | 'ingress' | 'egress' | 'issuer' | 'nats' | 'target' | 'client-resolver';

export interface Sides {
  readonly client: AddressSet;
  readonly ingress: AddressSet;
  readonly egress: AddressSet;
  readonly issuer: AddressSet;
  readonly nats: AddressSet;
  readonly target: AddressSet;
  readonly 'client-resolver': AddressSet;
}

function sideOf(sides: Sides, e: Endpoint): Side | undefined {
  for (const s of Object.keys(sides) as Side[]) if (sides[s].has(e.address)) return s;
  return undefined;
}

/** The conversation of two ends, named by its sides in a fixed order (`client-ingress`, `egress-ingress`, …). */
function conversationOf(sides: Sides, a: Endpoint, b: Endpoint): string {
  const x = sideOf(sides, a) ?? 'unknown';
  const y = sideOf(sides, b) ?? 'unknown';
  return [x, y].sort().join('-');
}

/** The capture, reduced to the TCP connections and UDP flows of the given conversations. */
export function onlyConversations(
  capture: CaptureDissection,
  sides: Sides,
  wanted: readonly string[],
): CaptureDissection {
  const keep = (a: Endpoint, b: Endpoint): boolean => wanted.includes(conversationOf(sides, a, b));
  const tcp = capture.tcp.filter((c) => keep(c.client, c.server));
  const ids = new Set(tcp.map((c) => c.id));
  return {
    ...capture,
    tcp,
    udp: capture.udp.filter((f) => keep(f.initiator, f.responder)),
    tls: capture.tls.filter((t) => ids.has(t.connection)),
  };
}

export const CONVERSATION = {
  clientIngress: 'client-ingress',
  clientIssuer: 'client-issuer',
  clientResolver: 'client-client-resolver',
  trunk: 'egress-ingress',
  egressTarget: 'egress-target',
} as const;
