/**
 * The hello extensions the auditor reads, decoded and encoded:
 *   server_name (0)          RFC 6066 §3     ServerNameList<1..2^16-1> of {type(1), HostName<1..2^16-1>}
 *   supported_groups (10)    RFC 8446 §4.2.7 NamedGroup named_group_list<2..2^16-1>
 *   ALPN (16)                RFC 7301 §3.1   ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>
 *   supported_versions (43)  RFC 8446 §4.2.1 ClientHello: versions<2..254>; ServerHello: selected_version
 *   key_share (51)           RFC 8446 §4.2.8 ClientHello: KeyShareEntry client_shares<0..2^16-1>;
 *                                            ServerHello: one KeyShareEntry; HelloRetryRequest: selected_group
 * where KeyShareEntry is { NamedGroup group; opaque key_exchange<1..2^16-1>; }.
 */
import { EvidenceError } from '../errors.ts';
import { Reader } from './reader.ts';
import type { TlsExtension } from './hello.ts';

export const EXT_SERVER_NAME = 0;
export const EXT_SUPPORTED_GROUPS = 10;
export const EXT_ALPN = 16;
export const EXT_SUPPORTED_VERSIONS = 43;
export const EXT_KEY_SHARE = 51;

function u16list(r: Reader, what: string): number[] {
  if (r.remaining % 2 !== 0) throw new EvidenceError('invalid', r.base, `odd ${what} length`);
  const out: number[] = [];
  while (r.remaining > 0) out.push(r.u16(what));
  return out;
}

/** The host_name entry of server_name; undefined if the list holds none. */
export function decodeServerName(data: Uint8Array): string | undefined {
  const r = new Reader(data);
  const list = r.vector(2, 1, 0xffff, 'server_name_list');
  r.end('server_name');
  let host: string | undefined;
  while (list.remaining > 0) {
    const type = list.u8('name_type');
    const name = list.vector(2, 1, 0xffff, 'HostName').bytes;
    if (type === 0 && host === undefined) host = Buffer.from(name).toString('latin1');
  }
  return host;
}

export function decodeAlpn(data: Uint8Array): string[] {
  const r = new Reader(data);
  const list = r.vector(2, 2, 0xffff, 'protocol_name_list');
  r.end('ALPN');
  const out: string[] = [];
  while (list.remaining > 0)
    out.push(Buffer.from(list.vector(1, 1, 0xff, 'ProtocolName').bytes).toString('latin1'));
  return out;
}

export function decodeSupportedGroups(data: Uint8Array): number[] {
  const r = new Reader(data);
  const list = r.vector(2, 2, 0xffff, 'named_group_list');
  r.end('supported_groups');
  return u16list(list, 'named group');
}

export function decodeClientSupportedVersions(data: Uint8Array): number[] {
  const r = new Reader(data);
  const list = r.vector(1, 2, 254, 'versions');
  r.end('supported_versions');
  return u16list(list, 'version');
}

export function decodeServerSupportedVersion(data: Uint8Array): number {
  const r = new Reader(data);
  const v = r.u16('selected_version');
  r.end('supported_versions');
  return v;
}

export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

export function decodeClientKeyShare(data: Uint8Array): KeyShareEntry[] {
  const r = new Reader(data);
  const list = r.vector(2, 0, 0xffff, 'client_shares');
  r.end('key_share');
  const out: KeyShareEntry[] = [];
  while (list.remaining > 0) {
    const group = list.u16('group');
    out.push({ group, keyExchange: list.vector(2, 1, 0xffff, 'key_exchange').bytes });
  }
  return out;
}

export function decodeServerKeyShare(data: Uint8Array): KeyShareEntry {
  const r = new Reader(data);
  const group = r.u16('group');
  const keyExchange = r.vector(2, 1, 0xffff, 'key_exchange').bytes;
  r.end('key_share');
  return { group, keyExchange };
}

export function decodeHelloRetryKeyShare(data: Uint8Array): number {
  const r = new Reader(data);
  const group = r.u16('selected_group');
  r.end('key_share');
  return group;
}

const be16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const ext = (type: number, data: number[]): TlsExtension => ({ type, data: Uint8Array.from(data) });

export const encodeExtension = {
  serverName(host: string): TlsExtension {
    const entry = [0, ...be16(host.length), ...ascii(host)];
    return ext(EXT_SERVER_NAME, [...be16(entry.length), ...entry]);
  },
  alpn(protocols: readonly string[]): TlsExtension {
    const list = protocols.flatMap((p) => [p.length, ...ascii(p)]);
    return ext(EXT_ALPN, [...be16(list.length), ...list]);
  },
  supportedGroups(groups: readonly number[]): TlsExtension {
    return ext(EXT_SUPPORTED_GROUPS, [...be16(groups.length * 2), ...groups.flatMap(be16)]);
  },
  clientSupportedVersions(versions: readonly number[]): TlsExtension {
    return ext(EXT_SUPPORTED_VERSIONS, [versions.length * 2, ...versions.flatMap(be16)]);
  },
  serverSupportedVersion(version: number): TlsExtension {
    return ext(EXT_SUPPORTED_VERSIONS, be16(version));
  },
  clientKeyShare(entries: readonly KeyShareEntry[]): TlsExtension {
    const list = entries.flatMap((e) => [
      ...be16(e.group),
      ...be16(e.keyExchange.length),
      ...e.keyExchange,
    ]);
    return ext(EXT_KEY_SHARE, [...be16(list.length), ...list]);
  },
  serverKeyShare(entry: KeyShareEntry): TlsExtension {
    return ext(EXT_KEY_SHARE, [
      ...be16(entry.group),
      ...be16(entry.keyExchange.length),
      ...entry.keyExchange,
    ]);
  },
};
