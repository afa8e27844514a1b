export {
  createSplitRelayClient,
  type SplitRelayClient,
  type SplitRelayClientOptions,
  type Target,
} from './client.ts';
export {
  createDispatcher,
  flowConnector,
  type DispatcherOptions,
  type FlowConnector,
} from './dispatcher.ts';
export { chooseEgress, type EgressPreference } from './egress-choice.ts';
export { TokenWallet, type SessionAuthenticator, type TokenWalletOptions } from './token-wallet.ts';
