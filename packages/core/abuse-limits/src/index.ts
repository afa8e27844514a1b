export { RateLimiter, type RateLimitOptions, type RateDecision } from './rate-limiter.ts';
export { clientAddressKey } from './client-address.ts';
export { ConcurrencyGate, type ConcurrencyGateOptions } from './concurrency-gate.ts';
export { SessionRateLimit, SESSION_RATE_REFUSAL } from './session-rate.ts';
export { WindowQuota, HOUR_MS, type QuotaTake } from './window-quota.ts';
