#!/usr/bin/env node
/**
 * SplitRelay's benchmark: direct vs SplitRelay two hops vs OpenSSH two hops (`ssh -J -D`), on
 * loopback, interleaved round by round. Writes bench/results/*.json, and for full runs
 * docs/benchmarks.md and docs/benchmarks-ratios.svg.   Usage: pnpm run bench -- --help
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setDefaultHighWaterMark } from 'node:stream';
import type { Contender } from './contenders/types.ts';
import { directContender } from './contenders/direct.ts';
import { splitRelayContender } from './contenders/splitrelay.ts';
import { splitRelaySdkContender } from './contenders/splitrelay-sdk.ts';
import { opensshContender } from './contenders/openssh.ts';
import {
  SSH_CIPHERS,
  ensureOpenSsh,
  opensshVersion,
  startSshdPair,
  type SshdPair,
} from './contenders/sshd.ts';
import { fdLimits } from '@splitrelay/local-deployment';
import { prepareBenchDeployment, startRelays, type Relays } from './kit/relays.ts';
import { startTarget, type Target } from './kit/target.ts';
import { memoryPhase } from './measure/memory-phase.ts';
import type { TargetInfo } from './measure/tls-flow.ts';
import { profileBulk, type ProfileRun } from './measure/profile.ts';
import { parseOptions } from './options.ts';
import { describeMachine } from './report/machine.ts';
import { writeDocs } from './report/docs.ts';
import { writeResults, type MemoryResults, type Results } from './report/results.ts';
import { summarizeRounds } from './report/summary.ts';
import { runRound, warmUp, type Round } from './rounds.ts';
import { bundleClient } from '@splitrelay/client-app/bundle';

const options = parseOptions(process.argv.slice(2));
if (options.render) {
  const written = await writeDocs(JSON.parse(await readFile(options.render, 'utf8')) as Results);
  process.stderr.write(`[bench] rendered ${options.render} into ${written.join(', ')}\n`);
  process.exit(0);
}
const command = [
  'pnpm run bench',
  ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2).filter((a) => a !== '--')] : []),
].join(' ');
const t0 = performance.now();
const say = (line: string): void => {
  process.stderr.write(
    `[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
  );
};
// The measuring client moves bytes like the relays do (docs/design.md, "Performance facts").
setDefaultHighWaterMark(false, 1024 * 1024);
// Ask for more open files than the hard limit allows; each child gets what it can have.
const FD_LIMIT = 200_000;
const phases: Record<string, number> = {};
const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  try {
    return await run();
  } finally {
    phases[name] = (performance.now() - t) / 1000;
  }
};

const cleanups: (() => Promise<void>)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping every process the bench started`);
    void cleanup().then(() => process.exit(130));
  });
}

try {
  // The client app as users get it (apps/client/src/bundle.ts), rebuilt so it matches src/.
  say(`client app bundled: ${await bundleClient()}`);
  if (options.ssh) ensureOpenSsh(say);
  const machine = describeMachine(options.ssh ? opensshVersion() : 'OpenSSH not run');
  const fdLimit = fdLimits();
  say(
    `${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; ${machine.openssh}; open files soft ${fdLimit.soft} hard ${fdLimit.hard}`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'splitrelay-bench-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));

  const deployment = await prepareBenchDeployment(join(dir, 'deployment'));
  const target: Target = await startTarget(deployment, FD_LIMIT);
  cleanups.push(() => target.process.stop());
  const targetInfo: TargetInfo = {
    tlsPort: target.tlsPort,
    holdPort: target.holdPort,
    udpPort: target.udpPort,
    ca: await readFile(deployment.caCert, 'utf8'),
  };
  const relays: Relays = await startRelays(deployment, FD_LIMIT);
  cleanups.push(() => relays.stop());

  const contenders: (Contender & { command?: string })[] = [directContender()];
  const splitrelay = await splitRelayContender(relays, FD_LIMIT);
  cleanups.push(() => splitrelay.stop());
  contenders.push(splitrelay);
  if (options.sdk) {
    const sdk = splitRelaySdkContender(relays);
    cleanups.push(() => sdk.stop());
    contenders.push(sdk);
  }
  let sshd: SshdPair | undefined;
  if (options.ssh) {
    sshd = await startSshdPair(join(dir, 'ssh'), FD_LIMIT);
    cleanups.push(() => (sshd as SshdPair).stop());
    for (const cipher of SSH_CIPHERS) {
      const ssh = await opensshContender(sshd, cipher);
      cleanups.push(() => ssh.stop());
      contenders.push(ssh);
    }
  }
  say(`contenders: ${contenders.map((c) => c.id).join(', ')}`);
  say(
    `sizes: bulk ${options.bulkBytes / 2 ** 20} MiB, ${options.flows} new flows, ${options.coldStarts} cold starts, ${options.concurrentFlows} × ${options.concurrentBytes / 2 ** 20} MiB concurrent, ${options.rounds} rounds`,
  );

  await phase('warm-up', () => warmUp(contenders, targetInfo));
  const rounds: Round[] = [];
  await phase('rounds', async () => {
    for (let i = 0; i < options.rounds; i++) {
      const round = await runRound(i, contenders, options, targetInfo, say);
      rounds.push(round);
      say(`round ${i + 1} of ${options.rounds} took ${round.seconds.toFixed(0)} s`);
    }
  });

  // Later phases start relays of their own on the same addresses.
  await splitrelay.stop();
  await relays.stop();

  let memory: MemoryResults | undefined;
  if (options.memory) {
    memory = await phase('memory', () =>
      memoryPhase({
        deployment,
        target: targetInfo,
        options,
        sshd,
        fdLimit: FD_LIMIT,
        cleanups,
        say,
      }),
    );
  }

  let profile: ProfileRun | undefined;
  if (options.profile) {
    profile = await phase('profile', async () => {
      const out = 'bench/results/profiles';
      await rm(out, { recursive: true, force: true });
      say(
        `profile: one ${options.bulkBytes / 2 ** 20} MiB download and upload under --cpu-prof (${out})`,
      );
      const run = await profileBulk(deployment, targetInfo, options.bulkBytes, FD_LIMIT, out);
      for (const [role, r] of Object.entries(run.roles)) {
        say(
          `  ${role}: user ${r.userSeconds.toFixed(2)} s, system ${r.systemSeconds.toFixed(2)} s; top: ${r.summary.top
            .slice(0, 3)
            .map((t) => `${t.fn} ${t.percent.toFixed(1)}%`)
            .join(', ')}`,
        );
      }
      return run;
    });
  }

  const contenderIds = contenders.map((c) => c.id);
  const results: Results = {
    date: new Date().toISOString(),
    command,
    machine,
    options,
    fdLimit,
    contenders: contenders.map((c) => ({
      id: c.id,
      label: c.label,
      ...(c.command ? { command: c.command } : {}),
    })),
    rounds,
    summary: summarizeRounds(rounds, contenderIds),
    ...(memory ? { memory } : {}),
    ...(profile ? { profile } : {}),
    durationSeconds: (performance.now() - t0) / 1000,
    phases,
  };
  await writeResults(options.resultsFile, results);
  say(`results: ${options.resultsFile}`);
  if (options.writeDocs) {
    const written = await writeDocs(results);
    say(`report: ${written.join(', ')}`);
  }
  const failures = rounds.flatMap((r) => r.errors);
  for (const f of failures) say(`error in ${f.step} (${f.contender}): ${f.error.split('\n')[0]}`);
  await cleanup();
  say(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(0);
} catch (err) {
  say(`failed: ${(err as Error).stack ?? String(err)}`);
  await cleanup();
  process.exit(1);
}
