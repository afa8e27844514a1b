/**
 * Two throwaway sshd instances for the OpenSSH contender: the jump host (127.0.5.1, the
 * ingress's role) and the exit host (127.0.6.1, the egress's role), each with its own config,
 * host key and port, sharing one authorized client key. Started as root in the foreground
 * (`-D -e`), stopped with the benchmark.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  freePort,
  processTree,
  startProcess,
  type StartedProcess,
} from '@splitrelay/local-deployment';
import { ADDR } from '../kit/addresses.ts';

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

export const SSHD = '/usr/sbin/sshd';
/** The ciphers compared: AES-GCM (what SplitRelay uses) and OpenSSH's default. */
export const SSH_CIPHERS = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'] as const;
export type SshCipher = (typeof SSH_CIPHERS)[number];

export interface SshHost {
  readonly address: string;
  readonly port: number;
  readonly sshd: StartedProcess;
}

export interface SshdPair {
  readonly dir: string;
  readonly jump: SshHost;
  readonly exit: SshHost;
  readonly clientKey: string;
  stop(): Promise<void>;
}

/** Installs Debian's openssh-server and openssh-client when sshd or ssh is missing. */
export function ensureOpenSsh(say: (line: string) => void): void {
  if (existsSync(SSHD) && existsSync('/usr/bin/ssh') && existsSync('/usr/bin/ssh-keygen')) return;
  say('sshd or ssh is missing: installing openssh-server and openssh-client with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', 'openssh-server', 'openssh-client'],
    { stdio: 'ignore', env },
  );
}

export function opensshVersion(): string {
  // `ssh -V` prints to stderr.
  return execFileSync('bash', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' }).trim();
}

function keygen(file: string): void {
  execFileSync(
    'ssh-keygen',
    ['-q', '-t', 'ed25519', '-N', '', '-C', 'splitrelay-bench', '-f', file],
    { stdio: 'ignore' },
  );
}

function sshdConfig(dir: string, name: string, address: string, port: number): string {
  return [
    `Port ${port}`,
    `ListenAddress ${address}`,
    `HostKey ${join(dir, `${name}_host_ed25519`)}`,
    `PidFile ${join(dir, `${name}.pid`)}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'StrictModes no',
    // Root may log in, with the bench's key only (authorized_keys also limits it to loopback).
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTunnel no',
    'PrintMotd no',
    'UseDNS no',
    'Compression no',
    `Ciphers ${SSH_CIPHERS.join(',')}`,
    // Cold starts and the per-session memory figure open many sessions at once.
    'MaxStartups 1000:30:2000',
    'LogLevel INFO',
    '',
  ].join('\n');
}

async function startSshd(
  dir: string,
  name: string,
  address: string,
  fdLimit: number,
): Promise<SshHost> {
  const port = await freePort(address);
  keygen(join(dir, `${name}_host_ed25519`));
  const config = join(dir, `sshd_${name}.conf`);
  await writeFile(config, sshdConfig(dir, name, address, port));
  const sshd = await startProcess(`sshd-${name}`, SSHD, ['-D', '-e', '-f', config], {
    fdLimit,
    keepLines: 200,
    timeoutMs: 20_000,
    isReady: (line) => (line.includes('Server listening on') ? { line } : undefined),
  });
  return { address, port, sshd };
}

export async function startSshdPair(dir: string, fdLimit: number): Promise<SshdPair> {
  mkdirSync(dir, { recursive: true });
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKey = join(dir, 'client_ed25519');
  keygen(clientKey);
  const pub = (await readFile(`${clientKey}.pub`, 'utf8')).trim();
  await writeFile(
    join(dir, 'authorized_keys'),
    `from="127.0.0.0/8",no-pty,no-agent-forwarding,no-X11-forwarding ${pub}\n`,
    { mode: 0o600 },
  );
  const jump = await startSshd(dir, 'jump', ADDR.sshJump, fdLimit);
  try {
    const exit = await startSshd(dir, 'exit', ADDR.sshExit, fdLimit);
    return {
      dir,
      jump,
      exit,
      clientKey,
      stop: async () => {
        // Per-connection sshd processes outlive their listener: end the whole trees.
        const sessions = [jump.sshd.pid, exit.sshd.pid].flatMap((pid) => processTree(pid).slice(1));
        await Promise.all([jump.sshd.stop(), exit.sshd.stop()]);
        for (const pid of sessions) killQuietly(pid);
      },
    };
  } catch (err) {
    await jump.sshd.stop();
    throw err;
  }
}
