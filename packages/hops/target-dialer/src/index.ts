export {
  createTargetDialer,
  type SourceAddresses,
  type TargetDialer,
  type TargetDialerOptions,
} from './dialer.ts';
export {
  systemResolve,
  serversResolve,
  withStaticHosts,
  dnsError,
  type Resolve,
} from './resolve.ts';
export { connectError, interleave, type Connect } from './connect.ts';
