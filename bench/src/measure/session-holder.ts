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
import { loadDirectoryFile, readTrustedKeys } from '@splitrelay/directory';
import { openInnerSession, type InnerSession } from '@splitrelay/inner-session';
import { RelayError } from '@splitrelay/errors';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import { TokenWallet } from '@splitrelay/sdk';

export interface HolderSpec {
  readonly ingress: { host: string; port: number; servername: string; caFile: string };
  /** Each session pays one Privacy Pass token, as a client's does. */
  readonly issuer: { url: string; servername: string; credential: string };
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

const wallet = new TokenWallet({
  issuer: spec.issuer.url,
  issuerCa: ca,
  issuerServername: spec.issuer.servername,
  credential: spec.issuer.credential,
  batchSize: 64,
  refillBelow: 32,
  localAddress: spec.localAddress,
});

/** The challenge comes with the ingress's first 407, as for any client. */
async function learnChallenge(): Promise<void> {
  try {
    (await openOuterTunnel({ ...outer(), headers: {} })).destroy();
  } catch (err) {
    const challenge = err instanceof RelayError ? err.headers['proxy-authenticate'] : undefined;
    if (challenge === undefined) throw err;
    wallet.challenged(challenge);
  }
}

function outer() {
  return {
    ingress: {
      host: spec.ingress.host,
      port: spec.ingress.port,
      servername: spec.ingress.servername,
      ca,
    },
    egressId: egress!.id,
    handshakeTimeoutMs: 30_000,
    localAddress: spec.localAddress,
  };
}

async function openOne(): Promise<void> {
  const authorization = await wallet.authorization();
  const carrier = await openOuterTunnel({
    ...outer(),
    ...(authorization ? { headers: { 'proxy-authorization': authorization } } : {}),
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
    void learnChallenge()
      .then(() => holdUpTo(command.open!))
      .then(() => {
        const alive = sessions.filter((s) => s.alive).length;
        say({ event: 'held', held: alive, failed, ...(firstError ? { firstError } : {}) });
      });
  }
});
process.stdin.once('end', () => process.exit(0));
say({ event: 'ready', pid: process.pid });
