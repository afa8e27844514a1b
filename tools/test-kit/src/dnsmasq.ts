/**
 * A real DNS server that no one here wrote: Debian's dnsmasq on a loopback address, with
 * fixed answers, no upstream, and a query log the test reads.
 */
import { existsSync } from 'node:fs';
import { startProcess } from '@splitrelay/local-deployment';

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
  // Debian installs it in /usr/sbin, which a non-login PATH may lack.
  const binary = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';
  const dnsmasq = await startProcess(
    'dnsmasq',
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
    {
      timeoutMs: 5000,
      isReady: (line) => (/started, version/.test(line) ? { line } : undefined),
    },
  );
  return {
    host,
    port,
    queries: () => dnsmasq.lines.filter((l) => l.includes('query[')),
    stop: () => dnsmasq.stop(),
  };
}
