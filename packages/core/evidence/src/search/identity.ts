/**
 * What the auditor looks for: an identity that one party must never learn. A target is
 * a DNS name, an address, a port or an `address:port`; a client is its address; a token
 * is its nonce or authenticator bytes; a credential is its text. Each expands (in
 * `forms.ts`) to every spelling that can carry it.
 */
import { parseIPv4, parseIPv6 } from '@splitrelay/authority';

export type Identity =
  /** An IPv4 or IPv6 address, in any text spelling `@splitrelay/authority` parses. */
  | { readonly kind: 'ip'; readonly address: string; readonly label?: string }
  /** A bare port: a weak needle, searched only in the contexts `forms.ts` documents. */
  | { readonly kind: 'port'; readonly port: number; readonly label?: string }
  /** A DNS name in ASCII (A-labels): matched without regard to case, as DNS does. */
  | { readonly kind: 'dns-name'; readonly name: string; readonly label?: string }
  /** A host (address or name) with its port. */
  | {
      readonly kind: 'endpoint';
      readonly host: string;
      readonly port: number;
      readonly label?: string;
    }
  /** Opaque bytes: a token nonce, an authenticator, a key. */
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly label?: string }
  /** A literal string, matched exactly as given (case and all), like a credential. */
  | { readonly kind: 'text'; readonly text: string; readonly label?: string };

export interface ParsedAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v6 = parseIPv6(bare);
  return v6 ? { family: 6, bytes: v6 } : undefined;
}

/** A short name for a finding: the label if given, else what the identity is. */
export function describeIdentity(identity: Identity): string {
  if (identity.label !== undefined) return identity.label;
  switch (identity.kind) {
    case 'ip':
      return `address ${identity.address}`;
    case 'port':
      return `port ${identity.port}`;
    case 'dns-name':
      return `name ${identity.name}`;
    case 'endpoint':
      return `endpoint ${identity.host}:${identity.port}`;
    case 'bytes':
      return `bytes ${Buffer.from(identity.bytes).toString('hex').slice(0, 16)}`;
    case 'text':
      return `text ${identity.text}`;
  }
}

/**
 * Everything that names one target: its name, its address, each with its port, and the
 * bare port (searched in its narrow contexts only).
 */
export function targetIdentities(target: {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}): Identity[] {
  return [
    { kind: 'dns-name', name: target.name },
    { kind: 'ip', address: target.ip },
    { kind: 'endpoint', host: target.name, port: target.port },
    { kind: 'endpoint', host: target.ip, port: target.port },
    { kind: 'port', port: target.port },
  ];
}
