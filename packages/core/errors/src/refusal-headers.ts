/**
 * The headers every refusal carries, on HTTP/1.1 and h2 alike: Proxy-Status with the reason,
 * Retry-After when a retry can help soon, and whatever the error itself must add (a Privacy
 * Pass challenge on 407).
 */
import { proxyStatusFor } from './proxy-status.ts';
import type { RelayError } from './relay-error.ts';

export function refusalHeaders(proxyName: string, err: RelayError): Record<string, string> {
  return {
    'proxy-status': proxyStatusFor(proxyName, err),
    ...(err.retryAfterSeconds === undefined
      ? {}
      : { 'retry-after': String(err.retryAfterSeconds) }),
    ...err.headers,
  };
}
