import type { Duplex } from 'node:stream';

export interface Target {
  readonly host: string;
  readonly port: number;
}

/**
 * "Give me a Duplex to X" (STYLE.md habit 5). The local proxies know nothing about relays:
 * whatever the connector does (a tunnel through ingress and egress, or a plain socket in
 * tests), it resolves a connected byte stream or rejects with a RelayError whose code says
 * what the client is told. `signal` aborts when the local client goes away first.
 */
export type TunnelConnector = (target: Target, signal?: AbortSignal) => Promise<Duplex>;

/** Fields the local proxies log: refusal codes only, never a target or a client address. */
export interface LocalProxyLogFields {
  code?: string;
  status?: number;
  reason?: string;
}

/** The subset of `@splitrelay/log`'s RoleLogger<'client'> these servers use. */
export interface LocalProxyLogger {
  debug(event: string, fields?: LocalProxyLogFields): void;
  warn(event: string, fields?: LocalProxyLogFields): void;
}
