/**
 * The interleaved run: every round measures every figure for every contender, the
 * contenders' order rotating from round to round, so the ratios taken within a round share
 * the machine's state of that moment.
 */
import { readFileSync } from 'node:fs';
import type { Contender } from './contenders/types.ts';
import type { BenchOptions } from './options.ts';
import { bulk } from './measure/bulk.ts';
import { concurrentFlows } from './measure/concurrent.ts';
import { coldStarts, sequentialFlows } from './measure/first-byte.ts';
import type { TargetInfo } from './measure/tls-flow.ts';
import { UDP_DATAGRAM_BYTES, UDP_PING_BYTES, udpEcho, type UdpSizes } from './measure/udp.ts';

export type RoundValues = Record<string, Record<string, number>>;

export interface Round {
  readonly index: number;
  readonly order: string[];
  readonly values: RoundValues;
  readonly seconds: number;
  /** /proc/loadavg (1, 5, 15 minutes) when the round started: other work on the machine. */
  readonly loadAverage: number[];
  readonly errors: { contender: string; step: string; error: string }[];
}

type Step = (c: Contender, record: (figure: string, value: number) => void) => Promise<void>;

function steps(options: BenchOptions, target: TargetInfo): [string, Step][] {
  const bulkStep =
    (direction: 'download' | 'upload'): Step =>
    async (c, record) => {
      const r = await bulk(c, target, direction, options.bulkBytes);
      record(`bulk.${direction}`, r.megabytesPerSecond);
      for (const role of ['client', 'ingress', 'egress'] as const) {
        if (c.roles()[role].length > 0) record(`cpu.${direction}.${role}`, r.cpuPerGiB[role]);
      }
    };
  return [
    [
      'new flows',
      async (c, record) => {
        const r = await sequentialFlows(c, target, options.flows);
        if (r.failures > 0) throw new Error(`${r.failures} of ${options.flows} flows failed`);
        record('flow.p50', r.p50);
        record('flow.p90', r.p90);
        record('flow.p99', r.p99);
        record('flow.setup.p50', r.setupP50);
      },
    ],
    [
      'cold starts',
      async (c, record) => {
        const r = await coldStarts(c, target, options.coldStarts);
        if (r.samples.length > 0) record('cold', r.firstByteMs);
        if (r.failures > 0)
          throw new Error(
            `${r.failures} of ${options.coldStarts} cold starts failed (first: ${r.firstFailure})`,
          );
      },
    ],
    [
      'concurrent flows',
      async (c, record) => {
        const r = await concurrentFlows(
          c,
          target,
          options.concurrentFlows,
          options.concurrentBytes,
        );
        record('concurrent.aggregate', r.megabytesPerSecond);
        record('concurrent.p99', r.firstByteP99);
        if (r.failures > 0)
          throw new Error(`${r.failures} of ${options.concurrentFlows} concurrent flows failed`);
      },
    ],
    ['bulk download', bulkStep('download')],
    ['bulk upload', bulkStep('upload')],
    ...(options.udp ? ([['udp', udpStep(options, target)]] as [string, Step][]) : []),
  ];
}

/** UDP echo figures; contenders without UDP (OpenSSH) record nothing and show "–". */
function udpStep(options: BenchOptions, target: TargetInfo): Step {
  const sizes: UdpSizes = {
    pings: options.udpPings,
    pingBytes: UDP_PING_BYTES,
    seconds: options.udpSeconds,
    window: options.udpWindow,
    datagramBytes: UDP_DATAGRAM_BYTES,
  };
  return async (c, record) => {
    const r = await udpEcho(c, target, sizes);
    if (!r) return;
    record('udp.p50', r.p50);
    record('udp.p99', r.p99);
    record('udp.rate', r.datagramsPerSecond);
    record('udp.loss', r.lossPercent);
    if (r.pingsLost > 0) throw new Error(`${r.pingsLost} of ${options.udpPings} UDP pings lost`);
  };
}

export async function runRound(
  index: number,
  contenders: readonly Contender[],
  options: BenchOptions,
  target: TargetInfo,
  progress: (line: string) => void,
): Promise<Round> {
  const started = performance.now();
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const shift = index % contenders.length;
  const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
  const values: RoundValues = {};
  const errors: Round['errors'] = [];
  for (const [name, step] of steps(options, target)) {
    const t = performance.now();
    const parts: string[] = [];
    for (const c of order) {
      const record = (figure: string, value: number): void => {
        (values[figure] ??= {})[c.id] = value;
      };
      try {
        await step(c, record);
      } catch (err) {
        errors.push({ contender: c.id, step: name, error: (err as Error).message });
        parts.push(`${c.id} FAILED (${(err as Error).message.split('\n')[0]})`);
      }
    }
    const key =
      {
        'new flows': 'flow.p50',
        'cold starts': 'cold',
        'concurrent flows': 'concurrent.aggregate',
        'bulk download': 'bulk.download',
        'bulk upload': 'bulk.upload',
        udp: 'udp.rate',
      }[name] ?? '';
    const shown = order.map((c) => `${c.id} ${values[key]?.[c.id]?.toFixed(1) ?? '-'}`);
    progress(
      `round ${index + 1} ${name} (${key}): ${shown.join(', ')}${parts.length ? `; ${parts.join('; ')}` : ''} [${((performance.now() - t) / 1000).toFixed(1)} s]`,
    );
  }
  return {
    index,
    order: order.map((c) => c.id),
    values,
    seconds: (performance.now() - started) / 1000,
    loadAverage,
    errors,
  };
}

/** Wakes every code path (JIT, TLS caches, sessions) before round 1. */
export async function warmUp(contenders: readonly Contender[], target: TargetInfo): Promise<void> {
  for (const c of contenders) {
    await sequentialFlows(c, target, 5);
    await bulk(c, target, 'download', 16 * 1024 * 1024);
    await bulk(c, target, 'upload', 16 * 1024 * 1024);
  }
}
