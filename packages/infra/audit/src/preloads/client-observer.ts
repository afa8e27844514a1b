/**
 * Loaded into the auditor's own client with `node --import`: records, as they happen, every
 * TLS session the client opens (to the ingress, the issuer, and the inner session to the
 * egress inside the tunnel) with what was negotiated, and every name the process looks up
 * through node:dns. Appends JSON lines to $SPLITRELAY_AUDIT_CLIENT_OBSERVER:
 *
 *   {"kind":"tls","servername","tunnelled","remote","protocol","group","cipher","alpn"}
 *   {"kind":"lookup","fn","name"}                                    one per name lookup
 *
 * The inner session's TLS runs inside the outer tunnel, out of any capture's sight: this
 * record (the client's own view, `getEphemeralKeyInfo`) is how its key exchange is known.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { appendFileSync } from 'node:fs';

const file = process.env.SPLITRELAY_AUDIT_CLIENT_OBSERVER;
const write = (value: object): void => {
  if (file) appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`);
};

if (file) {
  const connect = tls.connect;
  (tls as { connect: typeof tls.connect }).connect = function (this: unknown, ...args: unknown[]) {
    const socket = (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    const options = (args.find((a) => a !== null && typeof a === 'object') ??
      {}) as tls.ConnectionOptions;
    socket.once('secureConnect', () => {
      const key = socket.getEphemeralKeyInfo();
      write({
        kind: 'tls',
        servername: options.servername ?? options.host,
        // A session stacked on another stream: the inner session, inside the outer tunnel.
        tunnelled: options.socket !== undefined,
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        protocol: socket.getProtocol(),
        group: key && typeof key === 'object' && 'name' in key ? key.name : undefined,
        cipher: socket.getCipher()?.standardName,
        alpn: socket.alpnProtocol || undefined,
      });
    });
    return socket;
  } as typeof tls.connect;

  const wrap = <T extends object>(target: T, key: string): void => {
    const original = (target as Record<string, unknown>)[key];
    if (typeof original !== 'function') return;
    (target as Record<string, unknown>)[key] = function (
      this: unknown,
      host: unknown,
      ...rest: unknown[]
    ) {
      // An IP literal is answered inside Node without a query; anything else is a lookup.
      if (isIP(String(host)) === 0) write({ kind: 'lookup', fn: key, name: String(host) });
      return (original as (...a: unknown[]) => unknown).call(this, host, ...rest);
    };
  };
  for (const key of ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny']) {
    wrap(dns, key);
    wrap(dns.promises, key);
    wrap(dns.Resolver.prototype, key);
    wrap(dns.promises.Resolver.prototype, key);
  }
}
