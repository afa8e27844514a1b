export {
  parseAuthority,
  formatAuthority,
  parsePort,
  type Authority,
  type AuthorityOptions,
} from './authority.ts';
export { parseEndpoint, isEndpoint } from './endpoint.ts';
export {
  parseHost,
  classifyHost,
  isValidHost,
  isCanonicalHost,
  type Host,
  type HostKind,
} from './host.ts';
export { RELAY_ID, RELAY_ID_RULE, isRelayId } from './relay-id.ts';
export { parseIPv4, parseIPv6, formatIPv4, formatIPv6, formatIpText } from './ip.ts';
export {
  parseCidr,
  cidrContains,
  formatCidr,
  type Cidr,
  type CidrOptions,
  type CidrParse,
} from './cidr.ts';
