/**
 * Names this project's client and gateway agree on, beyond RFC 9458.
 *
 * The DoH resolver (RFC 8484) that the gateway answers itself, from the egress's own
 * resolver: a `.invalid` name (RFC 6761 §6.4) resolves nowhere, so a request for it can only
 * ever be answered by the gateway, and a client that leaked it to a real resolver would leak
 * nothing about what it asks.
 */
export const DOH_AUTHORITY = 'dns.splitrelay.invalid';
/** RFC 8484 §4.1's example path, the one DoH clients default to. */
export const DOH_PATH = '/dns-query';
