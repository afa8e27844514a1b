export { createSocksServer, type SocksServerOptions } from './socks-server.ts';
export { createHttpProxyServer, type HttpProxyServerOptions } from './http-proxy-server.ts';
export {
  parseAbsoluteTarget,
  requestHeadersForOrigin,
  responseHeadersForClient,
  type AbsoluteTarget,
} from './http-forward.ts';
export { proxyStatusHeader, DEFAULT_PROXY_NAME } from './http-responses.ts';
export { type UdpAssociateOptions } from './udp-association.ts';
export { createUdpCounters, type UdpCounters } from './udp-counters.ts';
export { UdpKernelDrops } from './udp-kernel-drops.ts';
export type {
  TunnelConnector,
  Target,
  UdpConnector,
  UdpFlow,
  LocalProxyLogger,
  LocalProxyLogFields,
} from './types.ts';
export {
  createDnsForwarder,
  servfail,
  type DnsForwarder,
  type DnsForwarderOptions,
  type DnsResolve,
} from './dns-forwarder.ts';
export {
  createOhttpEndpoint,
  requestedUrl,
  type FetchLike,
  type OhttpEndpointOptions,
} from './ohttp-endpoint.ts';
