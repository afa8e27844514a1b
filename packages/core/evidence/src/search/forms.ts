/**
 * Expands an identity to every needle that can carry it.
 *
 * | identity  | text spellings                                   | binary forms                                  |
 * | --------- | ------------------------------------------------ | --------------------------------------------- |
 * | IPv4      | dotted quad, 32-bit integer, in-addr.arpa,       | 4 bytes, 16-byte IPv4-mapped                  |
 * |           | every IPv4-mapped IPv6 spelling (`::ffff:…`)     |                                               |
 * | IPv6      | RFC 5952, expanded, uncompressed, each `::`      | 16 bytes (and the IPv4 forms when mapped)     |
 * |           | placement, ip6.arpa                              |                                               |
 * | DNS name  | the name, any case                               | DNS wire labels (RFC 1035 §3.1)               |
 * | endpoint  | `host:port`, `[v6]:port`, `v6:port`              | addr‖port (SOCKS5 reply, RFC 1928 §6),        |
 * |           |                                                  | port‖addr (sockaddr_in), PROXY v2 src and dst |
 * |           |                                                  | blocks, SOCKS5 domain len‖name‖port           |
 * | bytes     | —                                                | the bytes                                     |
 * | text      | the literal, exactly                             | —                                             |
 *
 * Every text spelling is also looked for inside base64/base64url text and, where it holds a
 * `:`, percent-encoded (a UDP template path writes `%3A`); every binary form is also looked
 * for as hex (either case) and inside base64 text at each of the three byte alignments.
 * Text spellings of addresses and names must stand alone (boundaries in `needle.ts`), so
 * `10.0.0.1` is not found in `10.0.0.12` nor `target.example` in `nottarget.example`.
 *
 * Ports are weak needles: two bytes occur by chance about once per 64 KiB of ciphertext and
 * short numbers fill every log. So a bare port is searched only where text says it is a port:
 *   - an authority `host:PORT` (after a letter, digit or `]`, not followed by a digit, letter
 *     or `:`, so IPv6 groups and clock times do not match),
 *   - a field named like a port (`port=`, `"remotePort":`, `dst_port: `),
 *   - the port segment of a CONNECT-UDP path (`/udp/host/PORT/`, RFC 9298 §2).
 * In binary the port is looked for only adjacent to an address (endpoint identities), where
 * the pair is 6 or 18 bytes. A port that the party legitimately sees for another reason (the
 * ingress sees `egress-1:443`) is declared with `allow` in the search options.
 */
import { parseAddress, type Identity } from './identity.ts';
import {
  ipv4Spellings,
  ipv6Spellings,
  isIPv4Mapped,
  mappedIPv6,
  type Spelling,
} from './ip-spellings.ts';
import {
  anyStart,
  boundary,
  dnsWireEnd,
  ipv6End,
  ipv6Start,
  nameEnd,
  nameStart,
  numericEnd,
  numericStart,
  portEnd,
  type EndRule,
  type Needle,
  type StartRule,
} from './needle.ts';

const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** `::ffff:a.b.c.d` ends in a dotted quad: a `:` after it cannot continue the address. */
const dottedTail = (text: string): boolean => text.slice(text.lastIndexOf(':')).includes('.');

function port16(port: number): Uint8Array {
  return Uint8Array.from([port >> 8, port & 0xff]);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError('port out of range');
}

/** A text spelling, plus its base64 and percent-encoded carriers. */
function textNeedles(
  form: string,
  text: string,
  start: StartRule,
  end: EndRule,
  caseInsensitive: boolean,
): Needle[] {
  const value = caseInsensitive ? lower(text) : text;
  const out: Needle[] = [
    {
      type: 'bytes',
      form,
      encoding: 'text',
      bytes: ascii(value),
      caseInsensitive,
      boundary: boundary(start, end),
    },
  ];
  if (text.length >= 3) out.push({ type: 'base64', form, encoding: 'base64', bytes: ascii(text) });
  if (text.includes(':')) {
    out.push({
      type: 'bytes',
      form,
      encoding: 'percent',
      bytes: ascii(lower(value.replaceAll(':', '%3A'))),
      caseInsensitive: true,
      boundary: boundary(start, end),
    });
  }
  return out;
}

/** A binary form, plus its hex (either case) and base64 carriers. */
function rawNeedles(form: string, bytes: Uint8Array, hex = true): Needle[] {
  const out: Needle[] = [{ type: 'bytes', form, encoding: 'raw', bytes, caseInsensitive: false }];
  if (hex) {
    out.push({
      type: 'bytes',
      form,
      encoding: 'hex',
      bytes: ascii(Buffer.from(bytes).toString('hex')),
      caseInsensitive: true,
    });
  }
  if (bytes.length >= 3) out.push({ type: 'base64', form, encoding: 'base64', bytes });
  return out;
}

interface AddressForms {
  /** Text spellings with the boundary rules of their family. */
  readonly spellings: readonly (Spelling & { readonly v6: boolean })[];
  /** Binary addresses: 4 bytes and/or 16 bytes. */
  readonly binaries: readonly { readonly form: string; readonly bytes: Uint8Array }[];
}

function addressForms(bytes: Uint8Array): AddressForms {
  if (bytes.length === 4) {
    return {
      spellings: [
        ...ipv4Spellings(bytes).map((s) => ({ ...s, v6: false })),
        ...ipv6Spellings(mappedIPv6(bytes))
          .filter((s) => s.form !== 'reverse-dns')
          .map((s) => ({
            form: s.form === 'ipv4-mapped' ? s.form : `ipv4-mapped:${s.form}`,
            text: s.text,
            v6: true,
          })),
      ],
      binaries: [
        { form: 'ipv4', bytes },
        { form: 'ipv4-mapped', bytes: mappedIPv6(bytes) },
      ],
    };
  }
  if (isIPv4Mapped(bytes)) return addressForms(bytes.subarray(12));
  return {
    spellings: ipv6Spellings(bytes).map((s) => ({ ...s, v6: true })),
    binaries: [{ form: 'ipv6', bytes }],
  };
}

function checkName(name: string): string[] {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = bare.split('.');
  if (
    bare.length === 0 ||
    bare.length > 253 ||
    labels.some((l) => l.length === 0 || l.length > 63)
  ) {
    throw new RangeError('not a DNS name');
  }
  if (!/^[\x21-\x7e]+$/.test(bare))
    throw new RangeError('DNS names are searched in ASCII (A-labels)');
  return labels.map(lower);
}

function dnsWire(labels: readonly string[]): Uint8Array {
  const parts: number[] = [];
  for (const l of labels) parts.push(l.length, ...ascii(l));
  return Uint8Array.from(parts);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

function portPatterns(port: number): Needle[] {
  const p = String(port);
  return [
    {
      type: 'pattern',
      form: 'port-in-authority',
      encoding: 'text',
      regex: new RegExp(`(?<=[A-Za-z0-9\\]]:)(${p})(?![0-9A-Za-z:])`, 'g'),
    },
    {
      type: 'pattern',
      form: 'port-field',
      encoding: 'text',
      regex: new RegExp(`port["']?[ \\t]*[:=][ \\t]*["']?(${p})(?![0-9])`, 'gi'),
    },
    {
      type: 'pattern',
      form: 'port-in-udp-path',
      encoding: 'text',
      regex: new RegExp(`(?<=/udp/[^/\\s]{1,255}/)(${p})(?![0-9])`, 'g'),
    },
  ];
}

export function expandIdentity(identity: Identity): Needle[] {
  switch (identity.kind) {
    case 'ip': {
      const parsed = parseAddress(identity.address);
      if (!parsed) throw new RangeError('not an IP address');
      const forms = addressForms(parsed.bytes);
      return [
        ...forms.spellings.flatMap((s) =>
          s.v6
            ? textNeedles(
                s.form,
                s.text,
                ipv6Start,
                dottedTail(s.text) ? numericEnd : ipv6End,
                true,
              )
            : textNeedles(
                s.form,
                s.text,
                numericStart,
                s.form === 'reverse-dns' ? nameEnd : numericEnd,
                true,
              ),
        ),
        ...forms.binaries.flatMap((b) => rawNeedles(b.form, b.bytes)),
      ];
    }
    case 'dns-name': {
      const labels = checkName(identity.name);
      const name = labels.join('.');
      return [
        ...textNeedles('name', name, nameStart, nameEnd, true),
        {
          type: 'bytes',
          form: 'name',
          encoding: 'dns-wire',
          bytes: dnsWire(labels),
          caseInsensitive: true,
          boundary: boundary(anyStart, dnsWireEnd),
        },
      ];
    }
    case 'endpoint': {
      checkPort(identity.port);
      const port = String(identity.port);
      const parsed = parseAddress(identity.host);
      if (!parsed) {
        const labels = checkName(identity.host);
        const name = labels.join('.');
        return [
          ...textNeedles('name:port', `${name}:${port}`, nameStart, portEnd, true),
          // SOCKS5 DOMAINNAME (RFC 1928 §4): one length byte, the name, the port. Matched
          // as written (lower case): folding case would also fold the length and port bytes.
          ...rawNeedles(
            'socks5-domain',
            concat(Uint8Array.of(name.length), ascii(name), port16(identity.port)),
            false,
          ),
        ];
      }
      const forms = addressForms(parsed.bytes);
      const out: Needle[] = [];
      for (const s of forms.spellings) {
        if (s.form.endsWith('reverse-dns') || s.form === 'integer') continue;
        if (s.v6) {
          out.push(
            ...textNeedles(`[${s.form}]:port`, `[${s.text}]:${port}`, anyStart, portEnd, true),
          );
          out.push(...textNeedles(`${s.form}:port`, `${s.text}:${port}`, ipv6Start, portEnd, true));
        } else {
          out.push(
            ...textNeedles(`${s.form}:port`, `${s.text}:${port}`, numericStart, portEnd, true),
          );
        }
      }
      for (const b of forms.binaries) {
        const p = port16(identity.port);
        out.push(...rawNeedles(`${b.form}+port`, concat(b.bytes, p)));
        out.push(...rawNeedles(`port+${b.form}`, concat(p, b.bytes)));
        // PROXY protocol v2 address block: src_addr dst_addr src_port dst_port (§2.2).
        out.push({
          type: 'gapped',
          form: `proxy-v2-src:${b.form}`,
          encoding: 'raw',
          head: b.bytes,
          gap: b.bytes.length,
          tail: p,
        });
        out.push({
          type: 'gapped',
          form: `proxy-v2-dst:${b.form}`,
          encoding: 'raw',
          head: b.bytes,
          gap: 2,
          tail: p,
        });
      }
      return out;
    }
    case 'port':
      checkPort(identity.port);
      return portPatterns(identity.port);
    case 'bytes':
      if (identity.bytes.length === 0)
        throw new RangeError('an empty byte string is found everywhere');
      return rawNeedles('bytes', Uint8Array.from(identity.bytes));
    case 'text': {
      if (identity.text.length === 0) throw new RangeError('an empty text is found everywhere');
      const bytes = Uint8Array.from(Buffer.from(identity.text, 'utf8'));
      const out: Needle[] = [
        { type: 'bytes', form: 'literal', encoding: 'text', bytes, caseInsensitive: false },
      ];
      if (bytes.length >= 3)
        out.push({ type: 'base64', form: 'literal', encoding: 'base64', bytes });
      const encoded = encodeURIComponent(identity.text);
      if (encoded !== identity.text) {
        // Percent escapes may be written in either case (RFC 3986 §2.1), so this one is
        // matched without regard to case.
        out.push({
          type: 'bytes',
          form: 'literal',
          encoding: 'percent',
          bytes: ascii(lower(encoded)),
          caseInsensitive: true,
        });
      }
      return out;
    }
  }
}
