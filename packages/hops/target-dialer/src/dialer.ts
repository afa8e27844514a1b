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
  dial(target: Target, signal?: AbortSignal): Promise<net.Socket>;
  /**
   * A UDP socket connected to the target's first permitted address (so only its replies are
   * accepted). Same policy and resolution as `dial`.
   */
  dialUdp(target: Target, signal?: AbortSignal): Promise<dgram.Socket>;
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

  async function resolveAllowed(target: Target, signal?: AbortSignal): Promise<PermittedAddress[]> {
    signal?.throwIfAborted();
    const decision = decideLiteral(policy, target);
    if (decision.action === 'connect')
      return [{ address: decision.address, family: decision.family }];
    const answers = await resolveName(resolve, decision.name, dnsTimeoutMs, signal);
    return filterResolved(policy, decision.name, answers);
  }

  async function dial(target: Target, signal?: AbortSignal): Promise<net.Socket> {
    if (target.kind !== 'tcp')
      throw new RelayError('malformed-request', `dial opens TCP flows, not ${String(target.kind)}`);
    let addresses = await resolveAllowed(target, signal);
    // Re-checked at the point of use, so no future path can hand connect an unchecked address.
    for (const a of addresses) checkAddress(policy, a.address);
    if (localFamily !== undefined) {
      addresses = addresses.filter((a) => a.family === localFamily);
      if (addresses.length === 0) {
        throw new RelayError(
          'destination-unreachable',
          `no IPv${localFamily} address for the target`,
        );
      }
    }
    return connectFirst(addresses, {
      port: target.port,
      timeoutMs: connectTimeoutMs,
      attemptDelayMs,
      localAddress,
      connect,
      signal,
    });
  }

  async function dialUdp(target: Target, signal?: AbortSignal): Promise<dgram.Socket> {
    let addresses = await resolveAllowed({ ...target, kind: 'udp' }, signal);
    for (const a of addresses) checkAddress(policy, a.address);
    if (localFamily !== undefined) addresses = addresses.filter((a) => a.family === localFamily);
    const chosen = addresses[0];
    if (chosen === undefined)
      throw new RelayError('destination-unreachable', 'no usable address for the target');
    return connectUdp(chosen, target.port, localAddress, signal);
  }

  return { dial, dialUdp, resolveAllowed };
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
