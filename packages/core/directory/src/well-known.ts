/**
 * Where an ingress serves the directory to its clients: the signed entries exactly as their
 * operators signed them (clients verify them against the egress operators' keys), and the
 * egresses' health as the ingress sees it.
 */
export const DIRECTORY_PATH = '/.well-known/splitrelay/directory';
export const EGRESS_HEALTH_PATH = '/.well-known/splitrelay/egress-health';
/** Where a relay serves its signed operator manifest (ingress: its client listener). */
export const MANIFEST_PATH = '/.well-known/splitrelay/manifest';
