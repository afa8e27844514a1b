/** The one TLS profile of every target connection, direct or relayed: TLS 1.3 AES-128-GCM. */
export const BENCH_TLS = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  // In Node this string also selects the TLS 1.3 suites; only AES-128-GCM is offered.
  ciphers: 'TLS_AES_128_GCM_SHA256',
} as const;
