/**
 * IANA TLS codepoints the report names (TLS Supported Groups, TLS Cipher Suites, and the
 * versions of RFC 8446 §4.2.1). Unknown values are shown in hex; GREASE values (RFC 8701)
 * are named as such so a report does not call them unknown.
 */

export const X25519MLKEM768 = 0x11ec;
export const TLS13 = 0x0304;

const GROUPS: Readonly<Record<number, string>> = {
  0x0017: 'secp256r1',
  0x0018: 'secp384r1',
  0x0019: 'secp521r1',
  0x001d: 'x25519',
  0x001e: 'x448',
  0x0100: 'ffdhe2048',
  0x0101: 'ffdhe3072',
  0x0102: 'ffdhe4096',
  0x0103: 'ffdhe6144',
  0x0104: 'ffdhe8192',
  0x11eb: 'SecP256r1MLKEM768',
  0x11ec: 'X25519MLKEM768',
  0x11ed: 'SecP384r1MLKEM1024',
  0x6399: 'X25519Kyber768Draft00',
};

const SUITES: Readonly<Record<number, string>> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  0x00ff: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
};

const VERSIONS: Readonly<Record<number, string>> = {
  0x0300: 'SSL 3.0',
  0x0301: 'TLS 1.0',
  0x0302: 'TLS 1.1',
  0x0303: 'TLS 1.2',
  0x0304: 'TLS 1.3',
};

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
const isGrease = (n: number): boolean => (n & 0x0f0f) === 0x0a0a && n >> 8 === (n & 0xff);

export function groupName(group: number): string {
  return GROUPS[group] ?? (isGrease(group) ? `GREASE(${hex4(group)})` : hex4(group));
}

export function cipherSuiteName(suite: number): string {
  return SUITES[suite] ?? (isGrease(suite) ? `GREASE(${hex4(suite)})` : hex4(suite));
}

export function versionName(version: number): string {
  return VERSIONS[version] ?? (isGrease(version) ? `GREASE(${hex4(version)})` : hex4(version));
}
