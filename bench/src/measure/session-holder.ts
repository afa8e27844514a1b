#!/usr/bin/env node
/**
 * Child process for the per-session memory figure: opens SplitRelay client sessions (outer
 * TLS to the ingress, then the inner TLS + h2 session to the egress, exactly what the SDK opens
 * per egress) and keeps them open and idle. One process holds thousands of sessions, which
 * thousands of client processes could not do on this machine. Commands arrive as JSON lines
 * on stdin: {"open": N} (hold N in total) and {"close": true}.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadDirectoryFile, readTrustedKeys } from '@splitrelay/directory-source';
import { openInnerSession, type InnerSession } from '@splitrelay/inner-session';
import { openOuterTunnel } from '@splitrelay/outer-hop';

export interface HolderSpec {
  readonly ingress: { host: string; port: number; servername: string; caFile: string };
  readonly directoryFile: string;
  readonly operatorPublicKey: string;
  readonly egressId: string;
  readonly localAddress: string;
  readonly concurrency: number;
}

const spec = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as HolderSpec;
const verified = loadDirectoryFile(
  spec.directoryFile,
  readTrustedKeys([{ publicKey: spec.operatorPublicKey }]),
  Math.floor(Date.now() / 1000),
);
const egress = verified.entries.get(spec.egressId);
if (!egress) throw new Error(`no egress ${spec.egressId} in the directory`);
const ca = readFileSync(spec.ingress.caFile, 'utf8');
const sessions: InnerSession[] = [];
let failed = 0;
let firstError = '';

async function openOne(): Promise<void> {
  const carrier = await openOuterTunnel({
    ingress: {
      host: spec.ingress.host,
      port: spec.ingress.port,
      servername: spec.ingress.servername,
      ca,
    },
    egressId: egress!.id,
    handshakeTimeoutMs: 30_000,
    localAddress: spec.localAddress,
  });
  sessions.push(
    await openInnerSession(carrier, {
      egressId: egress!.id,
      pins: egress!.tlsPins,
      handshakeTimeoutMs: 30_000,
      flowTimeoutMs: 30_000,
    }),
  );
}

async function holdUpTo(total: number): Promise<void> {
  let wanted = total - sessions.length;
  const worker = async (): Promise<void> => {
    while (wanted > 0) {
      wanted--;
      try {
        await openOne();
      } catch (err) {
        failed++;
        firstError ||= String((err as Error).message);
        // Stop piling on a relay that refuses: bounded failures end the attempt.
        if (failed > Math.max(50, total / 20)) wanted = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
}

const say = (record: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { open?: number; close?: boolean };
  if (command.close) {
    for (const s of sessions) s.close();
    say({ event: 'closed' });
    setTimeout(() => process.exit(0), 200);
    return;
  }
  if (command.open !== undefined) {
    void holdUpTo(command.open).then(() => {
      const alive = sessions.filter((s) => s.alive).length;
      say({ event: 'held', held: alive, failed, ...(firstError ? { firstError } : {}) });
    });
  }
});
process.stdin.once('end', () => process.exit(0));
say({ event: 'ready', pid: process.pid });
