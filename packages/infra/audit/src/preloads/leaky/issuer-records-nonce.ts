/**
 * Negative control, issuer half of "an issuer that records the nonce": an issuer build that
 * logs the nonces a client sends with its token request, next to the subscriber's request.
 * With them, the issuer's records join the ingress's (which spend those very nonces).
 */
import { leakLog, watchEvents } from './hooks.ts';

watchEvents((_emitter, event, args) => {
  if (event !== 'request') return;
  const req = args[0] as { headers?: Record<string, unknown>; url?: string } | undefined;
  const nonces = req?.headers?.['x-token-nonces'];
  if (typeof nonces === 'string') leakLog('token request nonces', { nonces: nonces.split(',') });
});
