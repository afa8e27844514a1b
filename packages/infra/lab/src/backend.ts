/**
 * What differs between a namespaced lab and the loopback fallback, behind one interface, so
 * the Lab (lab.ts) is written once: where a role's processes run, its addresses, what a capture
 * listens on, where its sockets are read, and what evidence is weaker.
 */
import type { CaptureTarget } from './capture.ts';
import type { FirewallKind } from './firewall.ts';
import type { Role } from './roles.ts';
import type { SocketSource } from './socket-sampler.ts';
import type { LinkInfo } from './topology.ts';

export interface RoleAddress {
  readonly v4: string;
  /** Undefined where the role has no IPv6 address of its own (loopback fallback, no IPv6). */
  readonly v6: string | undefined;
}

export interface Backend {
  readonly mode: 'netns' | 'loopback';
  readonly firewall: FirewallKind;
  /** Whether routes (and a filter) stand between the roles. */
  readonly enforced: boolean;
  readonly limitations: string[];
  address(role: Role): RoleAddress;
  namespace(role: Role | 'router'): string | undefined;
  links(): readonly LinkInfo[];
  wrap(role: Role | 'router', command: string, args: readonly string[]): [string, string[]];
  captureTargets(link: Role, ends: 'router' | 'role' | 'both'): CaptureTarget[];
  readonly sockets: SocketSource;
  sourceFor(role: Role, family: 4 | 6): string | undefined;
  /** Evidence only the live lab can give (the router's counters), written before teardown. */
  finalEvidenceSync(runDir: string): void;
}
