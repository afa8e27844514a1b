/**
 * Where the egress's Oblivious HTTP gateway takes requests on the trunk: the ingress relay
 * POSTs each client's encapsulated request here, as one stream on a pooled connection.
 */
export const OHTTP_GATEWAY_PATH = '/.well-known/splitrelay/ohttp-gateway';
