/** Command-line options of `pnpm run bench`; `--quick` is a smoke run with small sizes. */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  readonly rounds: number;
  readonly bulkBytes: number;
  readonly flows: number;
  readonly coldStarts: number;
  readonly concurrentFlows: number;
  readonly concurrentBytes: number;
  readonly memoryCounts: readonly number[];
  readonly sshSessions: number;
  /** UDP: sequential echo pings, and seconds of the windowed throughput run (W in flight). */
  readonly udpPings: number;
  readonly udpSeconds: number;
  readonly udpWindow: number;
  readonly udp: boolean;
  readonly memory: boolean;
  readonly ssh: boolean;
  readonly sdk: boolean;
  /** One extra bulk run with the relays under --cpu-prof. */
  readonly profile: boolean;
  /** Write docs/benchmarks.md and the SVG (full runs do by default, quick runs do not). */
  readonly writeDocs: boolean;
  readonly resultsFile: string;
  /** Only re-render docs/ from an earlier results file; nothing is measured. */
  readonly render?: string;
}

export const USAGE = `pnpm run bench -- [--quick] [--rounds N] [--bulk-mib N] [--flows N] [--cold N]
  [--concurrent N] [--concurrent-mib N] [--memory-counts 1000,10000] [--ssh-sessions N]
  [--udp-pings N] [--udp-seconds N] [--udp-window N] [--no-udp]
  [--no-memory] [--no-ssh] [--sdk] [--profile | --no-profile] [--write-docs | --no-docs]
pnpm run bench -- --render bench/results/latest.json   (re-render docs/ only)`;

const MiB = 1024 * 1024;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'bulk-mib': { type: 'string' },
      flows: { type: 'string' },
      cold: { type: 'string' },
      concurrent: { type: 'string' },
      'concurrent-mib': { type: 'string' },
      'memory-counts': { type: 'string' },
      'ssh-sessions': { type: 'string' },
      'udp-pings': { type: 'string' },
      'udp-seconds': { type: 'string' },
      'udp-window': { type: 'string' },
      'no-udp': { type: 'boolean', default: false },
      'no-memory': { type: 'boolean', default: false },
      'no-ssh': { type: 'boolean', default: false },
      sdk: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'no-profile': { type: 'boolean', default: false },
      'write-docs': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      render: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const int = (v: string | undefined, fallback: number, name: string): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive integer`);
    return n;
  };
  return {
    quick,
    rounds: int(values.rounds, quick ? 2 : 5, 'rounds'),
    bulkBytes: int(values['bulk-mib'], quick ? 32 : 1024, 'bulk-mib') * MiB,
    flows: int(values.flows, quick ? 30 : 200, 'flows'),
    coldStarts: int(values.cold, quick ? 2 : 5, 'cold'),
    concurrentFlows: int(values.concurrent, quick ? 20 : 200, 'concurrent'),
    concurrentBytes: int(values['concurrent-mib'], quick ? 1 : 4, 'concurrent-mib') * MiB,
    memoryCounts: values['memory-counts']
      ? values['memory-counts'].split(',').map((s) => int(s, 0, 'memory-counts'))
      : quick
        ? [100, 500]
        : [1000, 10_000],
    sshSessions: int(values['ssh-sessions'], quick ? 4 : 50, 'ssh-sessions'),
    udpPings: int(values['udp-pings'], quick ? 300 : 2000, 'udp-pings'),
    udpSeconds: int(values['udp-seconds'], quick ? 1 : 3, 'udp-seconds'),
    udpWindow: int(values['udp-window'], 64, 'udp-window'),
    udp: !values['no-udp'],
    memory: !values['no-memory'],
    ssh: !values['no-ssh'],
    sdk: values.sdk,
    profile: values['no-profile'] ? false : values.profile || !quick,
    writeDocs: values['no-docs'] ? false : values['write-docs'] || !quick,
    resultsFile: quick ? 'bench/results/quick.json' : 'bench/results/latest.json',
    ...(values.render ? { render: values.render } : {}),
  };
}
