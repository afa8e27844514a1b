export { splice, type SpliceOptions, type SpliceStats } from './splice.ts';
export { withDeadline, relayDeadline, type DeadlineOptions } from './deadline.ts';
export { assertPinned } from './pin-check.ts';
export {
  H2_WINDOW_BYTES,
  HIGH_WATER_MARK_BYTES,
  H2_MAX_SESSION_MEMORY_MB,
  TLS_CIPHERSUITES,
  tlsDefaults,
  h2Settings,
  tuneH2Session,
  tuneSocket,
  tuneProcess,
} from './tuning.ts';
export {
  TCP_ESTABLISHED,
  ownSockets,
  parseSocketTable,
  socketInodes,
  type SocketProtocol,
  type SocketRow,
} from './socket-table.ts';
