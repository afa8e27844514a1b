/**
 * The HTTP Datagram payload of a `connect-udp` stream, RFC 9298 §5
 * (https://www.rfc-editor.org/rfc/rfc9298#section-5), carried here in DATAGRAM capsules
 * (RFC 9297 §3.5) because Node has no QUIC DATAGRAM frames:
 *
 *   UDP Proxying HTTP Datagram Payload {
 *     Context ID (i),              ; RFC 9000 §16 varint
 *     UDP Proxying Payload (..),   ; may be empty
 *   }
 *
 *   Datagram Capsule {             ; RFC 9297 §3.5
 *     Type (i) = 0x00,
 *     Length (i),
 *     HTTP Datagram Payload (..),
 *   }
 *
 * Context ID 0 carries "the unmodified UDP payload" (§5); other IDs belong to extensions
 * that register them (§4), and we register none. A datagram with an unknown context ID is
 * not an error: §5 says the receiver "SHALL either drop that datagram silently or buffer it
 * temporarily", so `decodeUdpPayload` reports the ID and the caller drops it.
 *
 * §5 also caps context-ID-0 payloads: "Endpoints MUST NOT send HTTP Datagrams with payloads
 * longer than 65527 bytes using Context ID zero", and a receiver of one "MUST abort the
 * corresponding stream"; both directions are enforced here.
 */
import { CapsuleError } from './capsule-error.ts';
import { DATAGRAM_CAPSULE_TYPE, encodeCapsuleHeader } from './capsule.ts';
import { decodeVarint, varintLength, writeVarint } from './varint.ts';

/** RFC 9298 §5: the largest UDP payload with context ID 0 (65535 minus the 8-byte UDP header). */
export const MAX_UDP_PAYLOAD = 65527;

export interface UdpPayload {
  /** 0 for a UDP payload; any other value is an unregistered context: drop the datagram. */
  readonly contextId: number | bigint;
  /** A view into the decoded bytes, not a copy. */
  readonly payload: Uint8Array;
}

function isContextZero(contextId: number | bigint): boolean {
  return contextId === 0 || contextId === 0n;
}

export function encodeUdpPayload(payload: Uint8Array): Uint8Array;
export function encodeUdpPayload(contextId: number | bigint, payload: Uint8Array): Uint8Array;
export function encodeUdpPayload(
  first: number | bigint | Uint8Array,
  second?: Uint8Array,
): Uint8Array {
  const [contextId, payload] = first instanceof Uint8Array ? [0, first] : [first, second];
  if (payload === undefined) throw new TypeError('payload is required');
  if (isContextZero(contextId) && payload.length > MAX_UDP_PAYLOAD) {
    throw new RangeError(`a UDP payload is at most ${MAX_UDP_PAYLOAD} bytes`);
  }
  const idLength = varintLength(contextId);
  const out = new Uint8Array(idLength + payload.length);
  writeVarint(out, 0, contextId);
  out.set(payload, idLength);
  return out;
}

/**
 * Splits an HTTP Datagram payload (a DATAGRAM capsule's value). Throws CapsuleError
 * 'malformed' when there is no context ID or a context-ID-0 payload is over 65527 bytes.
 */
export function decodeUdpPayload(bytes: Uint8Array): UdpPayload {
  const id = decodeVarint(bytes, 0);
  if (!id.ok) throw new CapsuleError('malformed', 'HTTP datagram without a complete context ID');
  const payload = bytes.subarray(id.bytesRead);
  if (isContextZero(id.value) && payload.length > MAX_UDP_PAYLOAD) {
    throw new CapsuleError('malformed', `UDP payload longer than ${MAX_UDP_PAYLOAD} bytes`);
  }
  return { contextId: id.value, payload };
}

/**
 * The header of a DATAGRAM capsule carrying a UDP payload of `payloadLength` bytes: type 0,
 * length, context ID 0. Shells can write it and the payload as two chunks, with no copy.
 */
export function datagramCapsuleHeader(payloadLength: number): Uint8Array {
  if (
    !Number.isSafeInteger(payloadLength) ||
    payloadLength < 0 ||
    payloadLength > MAX_UDP_PAYLOAD
  ) {
    throw new RangeError(`a UDP payload is 0..${MAX_UDP_PAYLOAD} bytes`);
  }
  const header = encodeCapsuleHeader(DATAGRAM_CAPSULE_TYPE, 1 + payloadLength);
  const out = new Uint8Array(header.length + 1); // the last byte is context ID 0
  out.set(header, 0);
  return out;
}

/** A whole DATAGRAM capsule carrying `payload` with context ID 0, in one buffer. */
export function encodeDatagramCapsule(payload: Uint8Array): Uint8Array {
  const header = datagramCapsuleHeader(payload.length);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}
