/**
 * The id of a relay (an egress, an ingress, a token issuer): one DNS label, so that an id can
 * stand unescaped as the host of `CONNECT <egress-id>:443`, as a WebSocket path segment, as
 * the last token of a NATS subject and as a TLS server name.
 *
 * It is the rule of `parseHost` (host.ts) for a one-label name, narrowed to one spelling:
 *
 *   relay-id = 1*63( a-z / 0-9 / "-" )   ; no "-" first or last (RFC 1123 §2.1)
 *                                         ; no "_", no upper case, no trailing dot
 *                                         ; not all digits and not 0x-hex (host.ts refuses
 *                                         ; such a last label, so it could never be CONNECTed)
 *
 * The regex is for zod's `.regex()`; a test holds it to `parseHost`.
 */

export const RELAY_ID = /^(?!(?:[0-9]+|0x[0-9a-f]*)$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The message a schema gives for an id that breaks the rule. */
export const RELAY_ID_RULE =
  'must be a DNS label: 1-63 of [a-z0-9-], no hyphen at either end, not a number';

export function isRelayId(text: unknown): text is string {
  return typeof text === 'string' && RELAY_ID.test(text);
}
