/**
 * The memory figures, after the rounds: idle flows (SplitRelay and OpenSSH) and client
 * sessions, each on freshly started relays (or a fresh ssh). Memory that earlier phases freed
 * but the allocator kept resident would otherwise absorb the growth being measured.
 */
import { join } from 'node:path';
import type { Deployment } from '@splitrelay/local-deployment';
import { opensshContender } from '../contenders/openssh.ts';
import { splitRelayContender } from '../contenders/splitrelay.ts';
import type { SshdPair } from '../contenders/sshd.ts';
import type { Contender } from '../contenders/types.ts';
import { startRelays, type Relays } from '../kit/relays.ts';
import type { BenchOptions } from '../options.ts';
import type { MemoryResults } from '../report/results.ts';
import { sequentialFlows } from './first-byte.ts';
import { idleFlowMemory } from './memory-flows.ts';
import { splitRelaySessionMemory, sshSessionMemory } from './memory-sessions.ts';
import type { TargetInfo } from './tls-flow.ts';

export interface MemoryPhaseContext {
  readonly deployment: Deployment;
  readonly target: TargetInfo;
  readonly options: BenchOptions;
  readonly sshd: SshdPair | undefined;
  readonly fdLimit: number;
  /** Stops registered here run if the bench is interrupted. */
  readonly cleanups: (() => Promise<void>)[];
  readonly say: (line: string) => void;
}

interface Fresh {
  readonly contender: Contender;
  readonly relays: Relays;
  stop(): Promise<void>;
}

async function freshSplitRelay(ctx: MemoryPhaseContext): Promise<Fresh> {
  const relays = await startRelays(ctx.deployment, ctx.fdLimit);
  const contender = await splitRelayContender(relays, ctx.fdLimit);
  const stop = async (): Promise<void> => {
    await contender.stop();
    await relays.stop();
  };
  ctx.cleanups.push(stop);
  // Opens the client's session and the trunk, and wakes the code paths, before the base reading.
  await sequentialFlows(contender, ctx.target, 5);
  return { contender, relays, stop };
}

export async function memoryPhase(ctx: MemoryPhaseContext): Promise<MemoryResults> {
  const { options, say, sshd } = ctx;
  const counts = options.memoryCounts;
  const idleFlows: MemoryResults['idleFlows'] = {};
  const sessions: MemoryResults['sessions'] = {};
  const notes = [
    'Each memory figure is taken on freshly started relays (SplitRelay) or a fresh `ssh -D` (OpenSSH), after 5 warm-up flows.',
  ];

  say(`memory: idle flows at ${counts.join(', ')}`);
  const forFlows = await freshSplitRelay(ctx);
  idleFlows.splitrelay = await idleFlowMemory(forFlows.contender, ctx.target, counts, say);
  await forFlows.stop();
  if (sshd) {
    const ssh = await opensshContender(sshd, 'aes128-gcm@openssh.com');
    ctx.cleanups.push(() => ssh.stop());
    await sequentialFlows(ssh, ctx.target, 5);
    idleFlows[ssh.id] = await idleFlowMemory(ssh, ctx.target, counts, say);
    await ssh.stop();
  }

  say(`memory: client sessions at ${counts.join(', ')}`);
  const forSessions = await freshSplitRelay(ctx);
  sessions.splitrelay = await splitRelaySessionMemory(
    forSessions.relays,
    forSessions.contender,
    counts,
    ctx.fdLimit,
    say,
  );
  await forSessions.stop();
  notes.push(
    'SplitRelay sessions are held by one helper process (bench/src/measure/session-holder.ts) that opens real client sessions ' +
      '(outer TLS to the ingress, inner TLS + HTTP/2 to the egress, as the SDK does per egress) and keeps them idle: thousands of client processes do not fit on 2 cores; its memory is the "client" column.',
  );
  if (sshd) {
    // Any ssh contender gives the sshd pids; sessions are new `ssh -J` processes.
    const ssh = await opensshContender(sshd, 'aes128-gcm@openssh.com');
    ctx.cleanups.push(() => ssh.stop());
    const config = join(sshd.dir, 'ssh_config_aes128-gcm');
    sessions[ssh.id] = [await sshSessionMemory(sshd, config, ssh, options.sshSessions, say)];
    await ssh.stop();
    notes.push(
      `OpenSSH sessions: ${options.sshSessions} \`ssh -N -J\` processes, not 1,000 or 10,000: each session is an ssh client plus a forked sshd process on each host (about 10 MiB of RSS each, mostly shared pages: see PSS).`,
    );
  }
  return { idleFlows, sessions, notes };
}
