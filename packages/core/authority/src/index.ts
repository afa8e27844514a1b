export { parseAuthority, formatAuthority, parsePort, type Authority } from './authority.ts';
export { parseHost, classifyHost, isValidHost, type Host, type HostKind } from './host.ts';
export { parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './ip.ts';
