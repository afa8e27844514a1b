export { openInnerSession, type InnerSession, type InnerSessionOptions } from './client.ts';
export {
  createInnerSessionServer,
  type InnerSessionServer,
  type InnerSessionServerOptions,
  type RequestHead,
} from './server.ts';
export {
  DatagramStream,
  type DatagramStats,
  type DatagramStreamOptions,
} from './datagram-stream.ts';
export type { UdpBridgeStats } from './udp-bridge.ts';
