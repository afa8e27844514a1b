export { splice, type SpliceOptions, type SpliceStats } from './splice.ts';
export { withDeadline } from './deadline.ts';
export { assertPinned } from './pin-check.ts';
export { serveHealth, type HealthSnapshot } from './health-server.ts';
export { freePort } from './free-port.ts';
