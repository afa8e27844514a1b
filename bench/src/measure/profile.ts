/**
 * Where the time goes: one bulk download and one bulk upload through freshly started relays
 * and client app running under `node --cpu-prof`, with each role's user and system CPU.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AppName, Deployment } from '@splitrelay/local-deployment';
import { splitRelayContender } from '../contenders/splitrelay.ts';
import { startRelays } from '../kit/relays.ts';
import { summarizeProfile, type ProfileSummary } from '../report/cpu-profile.ts';
import { bulk } from './bulk.ts';
import { sequentialFlows } from './first-byte.ts';
import type { TargetInfo } from './tls-flow.ts';

export interface RoleProfile {
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly profileFile: string;
  readonly summary: ProfileSummary;
}

export interface ProfileRun {
  readonly bytesEachWay: number;
  readonly downloadMBps: number;
  readonly uploadMBps: number;
  readonly roles: Record<string, RoleProfile>;
}

export async function profileBulk(
  deployment: Deployment,
  target: TargetInfo,
  size: number,
  fdLimit: number,
  outDir: string,
): Promise<ProfileRun> {
  const dirOf = (name: AppName): string => resolve(outDir, name);
  for (const name of ['client', 'ingress', 'egress'] as const)
    await mkdir(dirOf(name), { recursive: true });
  const nodeArgs = (name: AppName): string[] => ['--cpu-prof', `--cpu-prof-dir=${dirOf(name)}`];
  const relays = await startRelays(deployment, fdLimit, nodeArgs);
  const contender = await splitRelayContender(relays, fdLimit, nodeArgs);
  const apps = { client: contender.client, ingress: relays.ingress, egress: relays.egress };
  let down: number;
  let up: number;
  const before: Record<string, { user: number; system: number }> = {};
  const after: Record<string, { user: number; system: number }> = {};
  try {
    await sequentialFlows(contender, target, 5);
    for (const [role, app] of Object.entries(apps)) before[role] = app.cpu();
    down = (await bulk(contender, target, 'download', size)).megabytesPerSecond;
    up = (await bulk(contender, target, 'upload', size)).megabytesPerSecond;
    for (const [role, app] of Object.entries(apps)) after[role] = app.cpu();
  } finally {
    // SIGTERM lets each app exit normally, which is when --cpu-prof writes its file.
    await contender.stop();
    await relays.stop();
  }
  const roles: Record<string, RoleProfile> = {};
  for (const role of ['client', 'ingress', 'egress'] as const) {
    const files = (await readdir(dirOf(role))).filter((f) => f.endsWith('.cpuprofile')).sort();
    const file = files[files.length - 1];
    if (!file) continue;
    const profileFile = join(dirOf(role), file);
    const b = before[role] ?? { user: 0, system: 0 };
    const a = after[role] ?? b;
    roles[role] = {
      userSeconds: a.user - b.user,
      systemSeconds: a.system - b.system,
      profileFile,
      summary: summarizeProfile(profileFile),
    };
  }
  return { bytesEachWay: size, downloadMBps: down, uploadMBps: up, roles };
}
