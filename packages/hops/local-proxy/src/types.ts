import type { Duplex } from 'node:stream';

export interface Target {
  readonly host: string;
  readonly port: number;
}

/**
 * "Give me a Duplex to X" (docs/design.md, "The code"). The local proxies know nothing about relays:
 * whatever the connector does (a tunnel through ingress and egress, or a plain socket in
 * tests), it resolves a connected byte stream or rejects with a RelayError whose code says
 * what the client is told. `signal` aborts when the local client goes away first.
 */
export type TunnelConnector = (target: Target, signal?: AbortSignal) => Promise<Duplex>;

/** One UDP flow to one target through the relays: datagrams in, datagrams out. */
export interface UdpFlow {
  /** Never throws; drops when the flow is closed or its queue is full. */
  send(payload: Uint8Array): void;
  on(event: 'datagram', listener: (payload: Buffer) => void): this;
  on(event: 'close', listener: () => void): this;
  close(): void;
  /** The flow's own drop count, if it keeps one (the SDK's flows do). */
  readonly stats?: { readonly dropped: number };
}

/**
 * "Give me a UDP flow to X", the datagram twin of TunnelConnector: names stay names, and a
 * rejection is a RelayError. `signal` aborts when the SOCKS association ends first.
 */
export type UdpConnector = (target: Target, signal?: AbortSignal) => Promise<UdpFlow>;

/** Fields the local proxies log: refusal codes only, never a target or a client address. */
export interface LocalProxyLogFields {
  code?: string;
  status?: number;
  reason?: string;
  /** A later hop's Retry-After, where the client protocol has no place for it (SOCKS5). */
  retryAfterSeconds?: number;
}

/** The subset of `@splitrelay/log`'s RoleLogger<'client'> these servers use. */
export interface LocalProxyLogger {
  debug(event: string, fields?: LocalProxyLogFields): void;
  warn(event: string, fields?: LocalProxyLogFields): void;
}
