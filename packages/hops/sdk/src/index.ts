export {
  createSplitRelayClient,
  type DirectoryOptions,
  type SplitRelayClient,
  type SplitRelayClientOptions,
  type Target,
} from './client.ts';
export {
  EgressDirectory,
  type DirectorySource,
  type EgressDirectoryOptions,
} from './egress-directory.ts';
export { chooseEgress, type EgressHealth, type EgressPreference } from './egress-choice.ts';
export { TokenWallet, type SessionAuthenticator, type TokenWalletOptions } from './token-wallet.ts';
