/**
 * The few DNS messages the canary's servers need (RFC 1035 §4.1): read a query's first
 * question, write an answer with A/AAAA records. Pure.
 *
 *   Header (§4.1.1), 12 bytes:
 *     0  ID (16)
 *     2  QR(1) Opcode(4) AA(1) TC(1) RD(1) | RA(1) Z(3) RCODE(4)
 *     4  QDCOUNT (16)   6  ANCOUNT (16)   8  NSCOUNT (16)   10  ARCOUNT (16)
 *   Question (§4.1.2):
 *     QNAME  labels, each a length octet (1..63) and that many octets, ending with 0
 *     QTYPE (16)  QCLASS (16)
 *   Resource record (§4.1.3), for the answers written here:
 *     NAME (a pointer 0xC00C to the question's name, §4.1.4)  TYPE  CLASS  TTL (32)
 *     RDLENGTH (16)  RDATA (4 bytes for A, 16 for AAAA, RFC 3596 §2.2)
 *
 * A query's name is read without compression pointers: a question names its own labels
 * (pointers refer back into the message, and there is nothing before the first question).
 */

export const DNS_TYPE_A = 1;
export const DNS_TYPE_AAAA = 28;
export const DNS_CLASS_IN = 1;
export const RCODE_NOERROR = 0;
export const RCODE_NXDOMAIN = 3;

export type DnsWireErrorKind = 'incomplete' | 'invalid';

export class DnsWireError extends Error {
  readonly kind: DnsWireErrorKind;
  /** Where in the input the problem is. */
  readonly offset: number;
  constructor(kind: DnsWireErrorKind, offset: number) {
    super(kind === 'incomplete' ? 'DNS message is incomplete' : 'DNS message is invalid');
    this.name = 'DnsWireError';
    this.kind = kind;
    this.offset = offset;
  }
}

export interface DnsQuestion {
  readonly id: number;
  /** The RD bit (recursion desired), echoed in the answer. */
  readonly recursionDesired: boolean;
  /** Lower-cased, without the trailing dot. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

const HEADER = 12;

/** The first question of a query. Incomplete when it stops early, invalid when it is not a query. */
export function decodeQuery(bytes: Uint8Array): { value: DnsQuestion; bytesRead: number } {
  if (bytes.length < HEADER) throw new DnsWireError('incomplete', bytes.length);
  const u16 = (at: number): number => ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
  const flags = u16(2);
  if ((flags & 0x8000) !== 0) throw new DnsWireError('invalid', 2); // a response, not a query
  if (((flags >> 11) & 0x0f) !== 0) throw new DnsWireError('invalid', 2); // opcode other than QUERY
  if (u16(4) === 0) throw new DnsWireError('invalid', 4);
  const labels: string[] = [];
  let at = HEADER;
  let nameLength = 0;
  for (;;) {
    if (at >= bytes.length) throw new DnsWireError('incomplete', at);
    const len = bytes[at] as number;
    if (len === 0) {
      at += 1;
      break;
    }
    if (len > 63) throw new DnsWireError('invalid', at); // a pointer or a reserved label type
    if (at + 1 + len > bytes.length) throw new DnsWireError('incomplete', bytes.length);
    nameLength += len + 1;
    if (nameLength > 254) throw new DnsWireError('invalid', at); // §2.3.4: 255 octets at most
    labels.push(Buffer.from(bytes.subarray(at + 1, at + 1 + len)).toString('latin1'));
    at += 1 + len;
  }
  if (at + 4 > bytes.length) throw new DnsWireError('incomplete', bytes.length);
  return {
    value: {
      id: u16(0),
      recursionDesired: (flags & 0x0100) !== 0,
      name: labels.join('.').toLowerCase(),
      type: u16(at),
      class: u16(at + 2),
    },
    bytesRead: at + 4,
  };
}

function encodeName(name: string): Uint8Array {
  const parts: number[] = [];
  for (const label of name.split('.').filter((l) => l.length > 0)) {
    if (label.length > 63) throw new RangeError('DNS label longer than 63 octets');
    parts.push(label.length, ...Buffer.from(label, 'latin1'));
  }
  parts.push(0);
  if (parts.length > 255) throw new RangeError('DNS name longer than 255 octets');
  return Uint8Array.from(parts);
}

/** A query with one question (RD set), as a stub resolver sends it. */
export function encodeQuery(q: Omit<DnsQuestion, 'recursionDesired'>): Uint8Array {
  const name = encodeName(q.name);
  const out = new Uint8Array(HEADER + name.length + 4);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint16(0, q.id);
  view.setUint16(2, 0x0100);
  view.setUint16(4, 1);
  out.set(name, HEADER);
  view.setUint16(HEADER + name.length, q.type);
  view.setUint16(HEADER + name.length + 2, q.class);
  return out;
}

export interface DnsAnswer {
  readonly question: DnsQuestion;
  readonly rcode: number;
  /** Address records for the question's name: 4 bytes (A) or 16 bytes (AAAA). */
  readonly addresses: readonly Uint8Array[];
  readonly ttlSeconds?: number;
}

/** An authoritative answer (AA) to one question. */
export function encodeAnswer(a: DnsAnswer): Uint8Array {
  const name = encodeName(a.question.name);
  const records = a.addresses.map((addr) => {
    if (addr.length !== 4 && addr.length !== 16) throw new RangeError('address of 4 or 16 bytes');
    const rr = new Uint8Array(12 + addr.length);
    const v = new DataView(rr.buffer);
    v.setUint16(0, 0xc00c);
    v.setUint16(2, addr.length === 4 ? DNS_TYPE_A : DNS_TYPE_AAAA);
    v.setUint16(4, DNS_CLASS_IN);
    v.setUint32(6, a.ttlSeconds ?? 5);
    v.setUint16(10, addr.length);
    rr.set(addr, 12);
    return rr;
  });
  const size = HEADER + name.length + 4 + records.reduce((n, r) => n + r.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, a.question.id);
  view.setUint16(2, 0x8400 | (a.question.recursionDesired ? 0x0100 : 0) | (a.rcode & 0x0f));
  view.setUint16(4, 1);
  view.setUint16(6, records.length);
  out.set(name, HEADER);
  view.setUint16(HEADER + name.length, a.question.type);
  view.setUint16(HEADER + name.length + 2, a.question.class);
  let at = HEADER + name.length + 4;
  for (const r of records) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** The addresses of an answer's A and AAAA records (pointers allowed in names), and its id and rcode. */
export function decodeAnswer(bytes: Uint8Array): {
  value: { id: number; rcode: number; addresses: Uint8Array[] };
  bytesRead: number;
} {
  if (bytes.length < HEADER) throw new DnsWireError('incomplete', bytes.length);
  const u16 = (at: number): number => ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
  if ((u16(2) & 0x8000) === 0) throw new DnsWireError('invalid', 2);
  const skipName = (from: number): number => {
    let at = from;
    for (let hops = 0; hops < 128; hops++) {
      if (at >= bytes.length) throw new DnsWireError('incomplete', at);
      const len = bytes[at] as number;
      if (len === 0) return at + 1;
      if ((len & 0xc0) === 0xc0) {
        if (at + 2 > bytes.length) throw new DnsWireError('incomplete', bytes.length);
        return at + 2;
      }
      if (len > 63) throw new DnsWireError('invalid', at);
      at += 1 + len;
    }
    throw new DnsWireError('invalid', from);
  };
  let at = HEADER;
  for (let i = 0; i < u16(4); i++) {
    at = skipName(at) + 4;
    if (at > bytes.length) throw new DnsWireError('incomplete', bytes.length);
  }
  const addresses: Uint8Array[] = [];
  for (let i = 0; i < u16(6); i++) {
    at = skipName(at);
    if (at + 10 > bytes.length) throw new DnsWireError('incomplete', bytes.length);
    const type = u16(at);
    const length = u16(at + 8);
    if (at + 10 + length > bytes.length) throw new DnsWireError('incomplete', bytes.length);
    const rdata = bytes.slice(at + 10, at + 10 + length);
    if ((type === DNS_TYPE_A && length === 4) || (type === DNS_TYPE_AAAA && length === 16))
      addresses.push(rdata);
    at += 10 + length;
  }
  return { value: { id: u16(0), rcode: u16(2) & 0x0f, addresses }, bytesRead: at };
}
