/**
 * OpenSSH two hops, as people build it today: `ssh -N -D port -J jump exit`, an outer SSH
 * connection to the jump host carrying an inner one to the exit host, with a SOCKS port. A
 * temporary ssh_config (passed with -F, which ssh also hands to the -J helper) gives both
 * hops the same cipher, key and options.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, spawnProcess, type RunningProcess } from '@splitrelay/local-deployment';
import { ADDR } from '../kit/addresses.ts';
import type { SshCipher, SshdPair } from './sshd.ts';
import type { Contender, ContenderId } from './types.ts';
import { viaSocks } from './via-socks.ts';
import { waitForPort } from './wait-port.ts';

function sshConfig(pair: SshdPair, cipher: SshCipher): string {
  return [
    'Host *',
    '  User root',
    `  IdentityFile ${pair.clientKey}`,
    '  IdentitiesOnly yes',
    '  StrictHostKeyChecking no',
    '  UserKnownHostsFile /dev/null',
    '  GlobalKnownHostsFile /dev/null',
    `  Ciphers ${cipher}`,
    '  Compression no',
    '  BatchMode yes',
    '  ControlMaster no',
    '  ControlPath none',
    '  ExitOnForwardFailure yes',
    '  AddressFamily inet',
    // The outer connection leaves from the client's address, like SplitRelay's.
    `  BindAddress ${ADDR.client}`,
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

/** The exact command line (also written into the report). */
export function sshArgs(pair: SshdPair, configFile: string, socksPort: number): string[] {
  return [
    '-F',
    configFile,
    '-N',
    '-D',
    `${ADDR.socks}:${socksPort}`,
    '-J',
    `root@${pair.jump.address}:${pair.jump.port}`,
    `root@${pair.exit.address}`,
    '-p',
    String(pair.exit.port),
  ];
}

async function startSsh(
  pair: SshdPair,
  configFile: string,
): Promise<{ proc: RunningProcess; socksPort: number }> {
  const socksPort = await freePort(ADDR.socks);
  const proc = spawnProcess('ssh', 'ssh', sshArgs(pair, configFile, socksPort), { keepLines: 200 });
  try {
    await waitForPort(ADDR.socks, socksPort, 20_000, 1);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\nssh said: ${proc.lines.join('\n')}`, {
      cause: err,
    });
  }
  return { proc, socksPort };
}

export async function opensshContender(
  pair: SshdPair,
  cipher: SshCipher,
): Promise<Contender & { readonly command: string }> {
  const short = cipher.startsWith('aes') ? 'aes128-gcm' : 'chacha20';
  const configFile = join(pair.dir, `ssh_config_${short}`);
  await writeFile(configFile, sshConfig(pair, cipher));
  const main = await startSsh(pair, configFile);
  return {
    id: `ssh-${short}` as ContenderId,
    label: `OpenSSH -J (${short})`,
    command: ['ssh', ...sshArgs(pair, configFile, main.socksPort)].join(' '),
    openStream: viaSocks(main.socksPort),
    async freshClient() {
      const fresh = await startSsh(pair, configFile);
      return { openStream: viaSocks(fresh.socksPort), close: () => fresh.proc.stop() };
    },
    roles: () => ({
      client: [main.proc.pid],
      ingress: [pair.jump.sshd.pid],
      egress: [pair.exit.sshd.pid],
    }),
    collectGarbage: async () => {},
    stop: () => main.proc.stop(),
  };
}
