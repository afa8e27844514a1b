export { splice, type SpliceOptions, type SpliceStats } from './splice.ts';
export { withDeadline, relayDeadline, type DeadlineOptions } from './deadline.ts';
export { assertPinned } from './pin-check.ts';
export { readBody, declaredLength, type ReadBodyOptions } from './read-body.ts';
export {
  H2_WINDOW_BYTES,
  HIGH_WATER_MARK_BYTES,
  H2_MAX_SESSION_MEMORY_MB,
  TLS_CIPHERSUITES,
  TLS_GROUPS,
  tlsDefaults,
  h2Settings,
  tuneSocket,
  tuneProcess,
} from './tuning.ts';
export { h2SessionOptions, setUpH2Session, type H2SessionOptions } from './h2-session.ts';
export { runTunnel, type TunnelPhases, type Closable } from './tunnel-phases.ts';
export { refuseOnSocket, refuseOnResponse, refuseOnStream } from './refusal-writers.ts';
export {
  createTunnelServer,
  TUNNEL_ALPN_PROTOCOLS,
  type Alpn,
  type TunnelServer,
  type TunnelServerOptions,
} from './tunnel-server.ts';
export {
  TCP_ESTABLISHED,
  ownSockets,
  parseSocketTable,
  socketInodes,
  type SocketProtocol,
  type SocketRow,
} from './socket-table.ts';
