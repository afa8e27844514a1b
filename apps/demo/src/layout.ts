/** Where the demo puts each role: one loopback address per role, fixed ports. */
export const DEMO = {
  clientSource: '127.0.1.1',
  ingress: {
    host: '127.0.2.1',
    port: 4443,
    healthPort: 9101,
    name: 'ingress.demo.splitrelay.test',
  },
  nats: { host: '127.0.7.1', port: 4222 },
  issuer: { host: '127.0.6.1', port: 8445, name: 'issuer.demo.splitrelay.test' },
  egress: { id: 'egress-demo', host: '127.0.3.1', port: 8443, region: 'local' },
  target: { host: '127.0.4.1', port: 8444, name: 'target.demo.splitrelay.test' },
  socks: '127.0.0.1:1080',
  http: '127.0.0.1:8080',
  /** The client's Oblivious HTTP endpoint and DNS forwarder; the egress's own resolver. */
  ohttp: '127.0.0.1:8081',
  dns: '127.0.0.1:8053',
  resolver: { host: '127.0.4.53', port: 5300 },
} as const;

/** Extra egress allowlist entries from SPLITRELAY_ALLOW_TARGETS (comma-separated CIDRs). */
export function extraAllowedTargets(env: NodeJS.ProcessEnv): string[] {
  return (env.SPLITRELAY_ALLOW_TARGETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
