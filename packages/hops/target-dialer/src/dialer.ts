/**
 * The egress's way out: target in, connected socket out, with the policy applied at every
 * step where an address is chosen.
 *
 *   dial(target)
 *     ├─ decideLiteral      port, then host (core)           ─▶ port-/target-prohibited, malformed
 *     ├─ resolve            getaddrinfo at the egress         ─▶ dns-error (rcode), dns-timeout
 *     ├─ filterResolved     keep permitted answers (core)     ─▶ target-prohibited
 *     └─ connectFirst       Happy Eyeballs-lite over them     ─▶ connection-refused/-timeout,
 *                                                               destination-unreachable
 * The addresses handed to connect are exactly those the policy passed; nothing resolves
 * again in between (that second lookup is what DNS rebinding exploits).
 *
 * Source addresses: a dial may name its own (`SourceAddresses`, one per family: the egress
 * draws them per inner session from its address pools), which replaces the dialer's
 * `localAddress`. Only target addresses of a family with a source are tried, so a flow never
 * leaves from an address its session did not draw; the port is always the kernel's (0).
 */
import net from 'node:net';
import type dgram from 'node:dgram';
import { connectUdp } from './udp.ts';
import { RelayError } from '@splitrelay/errors';
import {
  checkAddress,
  decideLiteral,
  filterResolved,
  parseIp,
  type PermittedAddress,
  type Target,
  type TargetPolicy,
} from '@splitrelay/target-policy';
import { connectFirst, type Connect } from './connect.ts';
import { resolveName, systemResolve, type Resolve } from './resolve.ts';

/** Where one dial leaves from, per family; a family left out is not dialled at all. */
export interface SourceAddresses {
  readonly ipv4?: string | undefined;
  readonly ipv6?: string | undefined;
}

export interface TargetDialerOptions {
  readonly policy: TargetPolicy;
  /** Name to addresses. Default: getaddrinfo via `dns.promises.lookup` (all answers, verbatim). */
  readonly resolve?: Resolve;
  /** Bounds the whole connect phase, across every address tried. */
  readonly connectTimeoutMs: number;
  /** Bounds waiting for the resolver. */
  readonly dnsTimeoutMs: number;
  /** Source address for outgoing connections; only targets of its family are tried. */
  readonly localAddress?: string;
  /** RFC 8305 §5 "Connection Attempt Delay" before racing the next address. Default 250. */
  readonly attemptDelayMs?: number;
  /** How a socket is opened. Default `net.connect`; tests inject sockets that never connect. */
  readonly connect?: Connect;
}

export interface TargetDialer {
  /**
   * A connected TCP socket to the target (allowHalfOpen, no-delay). Rejects with a RelayError,
   * or with `signal.reason` when aborted.
   */
  dial(target: Target, signal?: AbortSignal, source?: SourceAddresses): Promise<net.Socket>;
  /**
   * A UDP socket connected to the target's first permitted address (so only its replies are
   * accepted), bound to the source of that address's family. Same policy, resolution and
   * source rule as `dial`.
   */
  dialUdp(target: Target, signal?: AbortSignal, source?: SourceAddresses): Promise<dgram.Socket>;
  /** The target's permitted addresses (an IP literal's own, or the name's permitted answers). */
  resolveAllowed(target: Target, signal?: AbortSignal): Promise<PermittedAddress[]>;
}

export function createTargetDialer(options: TargetDialerOptions): TargetDialer {
  const { policy, connectTimeoutMs, dnsTimeoutMs, localAddress } = options;
  const attemptDelayMs = options.attemptDelayMs ?? 250;
  const resolve = options.resolve ?? systemResolve;
  const connect = options.connect ?? net.connect;
  validate({ connectTimeoutMs, dnsTimeoutMs, attemptDelayMs }, localAddress);
  const localFamily = localAddress === undefined ? undefined : parseIp(localAddress)?.family;
  /** The dialer-wide source, as per-family sources; none when the kernel chooses. */
  const defaultSource: SourceAddresses | undefined =
    localAddress === undefined
      ? undefined
      : localFamily === 6
        ? { ipv6: localAddress }
        : { ipv4: localAddress };

  /** The policy-checked addresses a dial may use from this source, in resolver order. */
  function usable(
    addresses: readonly PermittedAddress[],
    source: SourceAddresses | undefined,
  ): PermittedAddress[] {
    // Re-checked at the point of use, so no future path can hand connect an unchecked address.
    for (const a of addresses) checkAddress(policy, a.address);
    if (source === undefined) return [...addresses];
    const kept = addresses.filter((a) => sourceFor(source, a.family) !== undefined);
    if (kept.length === 0) {
      const families = [source.ipv4 && 'IPv4', source.ipv6 && 'IPv6'].filter(Boolean);
      throw new RelayError(
        'destination-unreachable',
        families.length === 0
          ? 'no source address for the target'
          : `no ${families.join(' or ')} address for the target`,
      );
    }
    return kept;
  }

  async function resolveAllowed(target: Target, signal?: AbortSignal): Promise<PermittedAddress[]> {
    signal?.throwIfAborted();
    const decision = decideLiteral(policy, target);
    if (decision.action === 'connect')
      return [{ address: decision.address, family: decision.family }];
    const answers = await resolveName(resolve, decision.name, dnsTimeoutMs, signal);
    return filterResolved(policy, decision.name, answers);
  }

  async function dial(
    target: Target,
    signal?: AbortSignal,
    source: SourceAddresses | undefined = defaultSource,
  ): Promise<net.Socket> {
    if (target.kind !== 'tcp')
      throw new RelayError('malformed-request', `dial opens TCP flows, not ${String(target.kind)}`);
    const addresses = usable(await resolveAllowed(target, signal), source);
    return connectFirst(addresses, {
      port: target.port,
      timeoutMs: connectTimeoutMs,
      attemptDelayMs,
      localAddressFor: (family) => (source === undefined ? undefined : sourceFor(source, family)),
      connect,
      signal,
    });
  }

  async function dialUdp(
    target: Target,
    signal?: AbortSignal,
    source: SourceAddresses | undefined = defaultSource,
  ): Promise<dgram.Socket> {
    const addresses = usable(await resolveAllowed({ ...target, kind: 'udp' }, signal), source);
    const chosen = addresses[0];
    if (chosen === undefined)
      throw new RelayError('destination-unreachable', 'no usable address for the target');
    const local = source === undefined ? undefined : sourceFor(source, chosen.family);
    return connectUdp(chosen, target.port, local, signal);
  }

  return { dial, dialUdp, resolveAllowed };
}

function sourceFor(source: SourceAddresses, family: 4 | 6): string | undefined {
  return family === 4 ? source.ipv4 : source.ipv6;
}

function validate(durations: Record<string, number>, localAddress: string | undefined): void {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(durations)) {
    if (!Number.isInteger(value) || value < 1 || value > 3_600_000)
      problems.push(`${key} must be an integer 1-3600000`);
  }
  if (localAddress !== undefined && parseIp(localAddress) === undefined) {
    problems.push(`localAddress "${localAddress}" is not an IP address`);
  }
  if (problems.length > 0)
    throw new RelayError('config-invalid', `target dialer: ${problems.join('; ')}`);
}
