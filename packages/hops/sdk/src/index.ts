export {
  createSplitRelayClient,
  type SplitRelayClient,
  type SplitRelayClientOptions,
  type Target,
} from './client.ts';
export { chooseEgress, type EgressPreference } from './egress-choice.ts';
export { TokenWallet, type SessionAuthenticator, type TokenWalletOptions } from './token-wallet.ts';
