export {
  createOhttpRelay,
  OHTTP_KEYS_TYPE,
  RELAYED_TYPES,
  type OhttpRelay,
  type OhttpRelayOptions,
  type RelayGateway,
  type RelayReply,
  type RelayRequest,
} from './relay.ts';
export { RequestCredit, type RequestCreditOptions } from './request-credit.ts';
