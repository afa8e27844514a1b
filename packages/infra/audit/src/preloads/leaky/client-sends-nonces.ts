/**
 * Negative control, client half of "an issuer that records the nonce": a client build that
 * hands the issuer its tokens' nonces with each token request (an issuer "debug" feature it
 * asked for). Nonces are the first 32-byte draws of crypto.getRandomValues in each token
 * (RFC 9578 §5.1: nonce, then salt, then the blind).
 */
import https from 'node:https';

const nonces: string[] = [];
const getRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
globalThis.crypto.getRandomValues = (<T extends ArrayBufferView | null>(array: T): T => {
  const out = getRandomValues(array as never) as T;
  if (out instanceof Uint8Array && out.length === 32) nonces.push(Buffer.from(out).toString('hex'));
  return out;
}) as typeof globalThis.crypto.getRandomValues;

const request = https.request;
(https as { request: unknown }).request = function (this: unknown, ...args: unknown[]) {
  const url = args[0];
  const options = (url instanceof URL ? args[1] : args[0]) as
    { headers?: Record<string, string> } | undefined;
  const path = url instanceof URL ? url.pathname : '';
  if (
    path.endsWith('/token-request') &&
    options &&
    typeof options === 'object' &&
    nonces.length > 0
  ) {
    options.headers = { ...options.headers, 'x-token-nonces': nonces.splice(0).join(',') };
  }
  return (request as (...a: unknown[]) => unknown).apply(this, args);
};
