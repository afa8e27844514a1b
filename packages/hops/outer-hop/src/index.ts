export {
  createOuterHopServer,
  type OuterHopServerOptions,
  type PlainReply,
  type PlainRequest,
  type TunnelRequest,
} from './server.ts';
export { openOuterTunnel, type OuterTunnelOptions, type IngressAddress } from './client.ts';
export {
  WEBSOCKET_PATH_PREFIX,
  egressIdFromAuthority,
  egressIdFromWebSocketPath,
} from './egress-id.ts';
