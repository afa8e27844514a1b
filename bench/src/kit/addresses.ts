/**
 * Every role on its own loopback address, as in the end-to-end tests, plus the two sshd hosts:
 *   client source 127.0.1.1 → ingress 127.0.2.1 → egress 127.0.3.1 → targets 127.0.4.1
 *   ssh jump host 127.0.5.1 → ssh exit host 127.0.6.1 → targets 127.0.4.1
 *   Privacy Pass issuer 127.0.8.1 (tokens for the SplitRelay client)
 */
export const ADDR = {
  client: '127.0.1.1',
  ingress: '127.0.2.1',
  egress: '127.0.3.1',
  target: '127.0.4.1',
  sshJump: '127.0.5.1',
  sshExit: '127.0.6.1',
  /** The Privacy Pass issuer the client fetches its tokens from. */
  issuer: '127.0.8.1',
  /** Where the local SOCKS proxies (client app, ssh -D) listen. */
  socks: '127.0.0.1',
} as const;

export const INGRESS_NAME = 'ingress.splitrelay.test';
export const TARGET_NAME = 'target.splitrelay.test';
export const EGRESS_ID = 'egress-1';
export const ISSUER_NAME = 'issuer.splitrelay.test';
