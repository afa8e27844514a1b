export { RateLimiter, type RateLimitOptions, type RateDecision } from './rate-limiter.ts';
export { clientAddressKey } from './client-address.ts';
export { ConcurrencyGate, type ConcurrencyGateOptions } from './concurrency-gate.ts';
