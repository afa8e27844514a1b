/**
 * A real DNS server that no one here wrote: Debian's dnsmasq on a loopback address, with
 * fixed answers, no upstream, and a query log the test reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Dnsmasq {
  readonly host: string;
  readonly port: number;
  /** Query log lines so far (`query[A] name from 127.0.3.1`). */
  queries(): string[];
  stop(): Promise<void>;
}

export async function startDnsmasq(
  host: string,
  port: number,
  records: Readonly<Record<string, string>>,
): Promise<Dnsmasq> {
  const lines: string[] = [];
  // Debian installs it in /usr/sbin, which a non-login PATH may lack.
  const binary = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';
  const child: ChildProcess = spawn(
    binary,
    [
      '--keep-in-foreground',
      '--log-facility=-',
      '--log-queries',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      `--listen-address=${host}`,
      `--port=${port}`,
      '--user=root',
      '--pid-file=',
      ...Object.entries(records).map(([name, ip]) => `--host-record=${name},${ip}`),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  const deadline = Date.now() + 5000;
  while (!lines.some((l) => /started, version/.test(l))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`dnsmasq did not start:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    host,
    port,
    queries: () => lines.filter((l) => l.includes('query[')),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}
