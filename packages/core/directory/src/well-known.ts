/**
 * Where an ingress serves the directory to its clients: the signed entries exactly as their
 * operators signed them (clients verify them against the egress operators' keys), and the
 * egresses' health as the ingress sees it.
 */
export const DIRECTORY_PATH = '/.well-known/splitrelay/directory';
export const EGRESS_HEALTH_PATH = '/.well-known/splitrelay/egress-health';

/**
 * The Oblivious HTTP resources an ingress serves for each egress with `ohttpKeys`: the relay
 * (RFC 9458 §2: clients POST encapsulated requests to `OHTTP_RELAY_PREFIX + egressId`) and
 * the keys, `application/ohttp-keys` exactly as the signed entry lists them
 * (`OHTTP_KEYS_PREFIX + egressId`).
 */
export const OHTTP_RELAY_PREFIX = '/.well-known/splitrelay/ohttp-relay/';
export const OHTTP_KEYS_PREFIX = '/.well-known/ohttp-keys/';
/** Where a relay serves its signed operator manifest (ingress: its client listener). */
export const MANIFEST_PATH = '/.well-known/splitrelay/manifest';
