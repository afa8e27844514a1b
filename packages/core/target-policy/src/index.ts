export {
  compilePolicy,
  checkPort,
  checkAddress,
  classifyAddress,
  type TargetPolicy,
  type TargetPolicyConfig,
  type AddressVerdict,
} from './policy.ts';
export {
  decideLiteral,
  filterResolved,
  type Target,
  type TargetDecision,
  type TransportKind,
  type PermittedAddress,
} from './decide.ts';
export { parseIp, parseIPv4, parseIPv6, formatIp, type IpAddress, type IpFamily } from './ip.ts';
export { parseCidr, cidrContains, formatCidr, type Cidr } from './cidr.ts';
export { builtinRanges, type BuiltinRange } from './ranges.ts';
export type { PortSpec } from './ports.ts';
