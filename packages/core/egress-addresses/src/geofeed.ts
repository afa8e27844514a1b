/**
 * The RFC 8805 geofeed of the pools: one CSV line per prefix saying where its addresses are
 * (country, ISO 3166-2 region, city), published so sites place users by region without
 * learning who they are. And a strict parser of the format, to check ours and read others'.
 *
 *   feed    = *( ( comment / entry / "" ) LF )          (CR LF accepted; UTF-8, no BOM)
 *   comment = "#" *char                                  (RFC 8805 §2.1)
 *   entry   = ip_prefix "," alpha2code "," region "," city "," postal_code
 *   ip_prefix   REQUIRED  IPv4 or IPv6 prefix, host bits zero; bare address = host (§2.1.1.1)
 *   alpha2code  OPTIONAL  ISO 3166-1 alpha-2 (§2.1.1.2)
 *   region      OPTIONAL  ISO 3166-2 subdivision of that country (§2.1.1.3)
 *   city        OPTIONAL  free UTF-8 text (§2.1.1.4)
 *   postal_code OPTIONAL, deprecated: we never publish one (§2.1.1.5)
 *   fields may be RFC 4180 quoted ("a ""b""", "x, y"); a repeated prefix is an error.
 *
 * Where consumers find the feed (RFC 9632): the `geofeed:` attribute of the RPSL inetnum /
 * inet6num object that covers the prefixes, holding an HTTPS URL, e.g.
 *
 *   inetnum:  192.0.2.0 - 192.0.2.255
 *   geofeed:  https://relay.example/geofeed.csv
 *
 * (or `remarks: Geofeed https://...` where a registry has no such attribute yet). A consumer
 * uses only the entries inside the object's own range, and the feed may carry an RPKI
 * signature in a trailing `# RPKI Signature:` ... `# End Signature:` comment block (RFC 9632
 * §5), which this generator leaves to the publishing step.
 */
import type { AddressPools } from './pools.ts';
import { COUNTRY_CODE, SUBDIVISION_CODE } from './config.ts';
import { EgressAddressError } from './errors.ts';
import { formatPrefix, parseAddress, parsePrefix, type IpFamily, type Prefix } from './prefix.ts';

export interface GeofeedEntry {
  /** Canonical text: dotted quad or RFC 5952, with the length. */
  readonly prefix: string;
  readonly family: IpFamily;
  readonly country: string | undefined;
  readonly region: string | undefined;
  readonly city: string | undefined;
  readonly postalCode: string | undefined;
}

/** Upper bound on a feed this parser reads (16 MiB of text) and on one line. */
export const MAX_GEOFEED_CHARS = 16 * 1024 * 1024;
export const MAX_GEOFEED_LINE = 4096;

export interface GeofeedOptions {
  /** Comment lines to put first (without the "#"), e.g. a contact or the publication time. */
  readonly comments?: readonly string[];
}

/** The feed of every configured prefix, in config order. */
export function generateGeofeed(pools: AddressPools, options: GeofeedOptions = {}): string {
  const lines = [
    '# RFC 8805 geofeed: ip_prefix,alpha2code,region,city,postal_code',
    ...(options.comments ?? []).map((c) => {
      if (/[\r\n]/.test(c)) throw new RangeError('a comment is one line');
      return `# ${c}`;
    }),
  ];
  for (const region of pools.regions) {
    for (const pool of [region.ipv4, region.ipv6]) {
      for (const p of pool?.prefixes ?? []) {
        // Config validation keeps commas and quotes out of city names, so nothing is quoted.
        lines.push(
          `${formatPrefix(p.prefix)},${region.country},${region.subdivision ?? ''},${region.city ?? ''},`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Splits one line into RFC 4180 fields; undefined when a quote is unbalanced or stray. */
function splitCsv(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') return undefined;
    } else {
      const end = line.indexOf(',', i);
      field = line.slice(i, end < 0 ? line.length : end);
      if (field.includes('"')) return undefined;
      i = end < 0 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function entryPrefix(text: string): Prefix | undefined {
  if (text.includes('/')) {
    const r = parsePrefix(text);
    return r.ok ? r.prefix : undefined;
  }
  const a = parseAddress(text);
  return a === undefined
    ? undefined
    : { family: a.family, network: a.value, length: a.family === 4 ? 32 : 128 };
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Parses a geofeed, refusing it whole when any line breaks a rule; the error's `problems`
 * name every bad line by number (never quoting it).
 */
export function parseGeofeed(input: string | Uint8Array): GeofeedEntry[] {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      throw new EgressAddressError('invalid-geofeed', 'not UTF-8');
    }
  }
  if (text.length > MAX_GEOFEED_CHARS) throw new EgressAddressError('invalid-geofeed', 'too large');
  if (text.startsWith('\ufeff'))
    throw new EgressAddressError('invalid-geofeed', 'starts with a BOM');

  const problems: string[] = [];
  const entries: GeofeedEntry[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const n = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) return;
    const bad = (why: string) => problems.push(`line ${n}: ${why}`);
    if (line.length > MAX_GEOFEED_LINE) return bad('is too long');
    if (CONTROL.test(line)) return bad('holds a control character');
    const fields = splitCsv(line);
    if (fields === undefined) return bad('has unbalanced or stray quotes');
    if (fields.length !== 5) return bad(`has ${fields.length} fields, not 5`);
    const [prefixText, cc, region, city, postal] = fields as [
      string,
      string,
      string,
      string,
      string,
    ];
    const prefix = entryPrefix(prefixText);
    if (prefix === undefined)
      return bad('ip_prefix is not an IPv4 or IPv6 prefix with host bits zero');
    const country = cc === '' ? undefined : cc.toUpperCase();
    if (country !== undefined && !COUNTRY_CODE.test(country)) {
      return bad('alpha2code is not an ISO 3166-1 alpha-2 code');
    }
    const subdivision = region === '' ? undefined : region.toUpperCase();
    if (subdivision !== undefined) {
      if (!SUBDIVISION_CODE.test(subdivision)) return bad('region is not an ISO 3166-2 code');
      if (country === undefined) return bad('region without alpha2code');
      if (!subdivision.startsWith(`${country}-`)) return bad('region is not in alpha2code');
    }
    const canonical = formatPrefix(prefix);
    if (seen.has(canonical)) return bad('repeats a prefix');
    seen.add(canonical);
    entries.push(
      Object.freeze({
        prefix: canonical,
        family: prefix.family,
        country,
        region: subdivision,
        city: city === '' ? undefined : city,
        postalCode: postal === '' ? undefined : postal,
      }),
    );
  });
  if (problems.length > 0) {
    throw new EgressAddressError('invalid-geofeed', 'lines break RFC 8805', problems);
  }
  return entries;
}
