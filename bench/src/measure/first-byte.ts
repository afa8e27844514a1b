/**
 * Time to first byte of new flows, one after another: on the contender's open session
 * (`sequentialFlows`) or on a client started for it (`coldStarts`).
 */
import type { Contender } from '../contenders/types.ts';
import { percentile } from '../report/stats.ts';
import { nowMs, timedFlow, withTimeout, type TargetInfo } from './tls-flow.ts';

export interface FlowLatency {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** Stream open (SOCKS reply or TCP connect), median. */
  readonly setupP50: number;
  readonly setupP99: number;
  readonly failures: number;
  /** Why the first failure failed, for the run's error line. */
  readonly firstFailure?: string;
}

export async function sequentialFlows(
  contender: Contender,
  target: TargetInfo,
  count: number,
): Promise<FlowLatency> {
  const firstByte: number[] = [];
  const setup: number[] = [];
  let failures = 0;
  for (let i = 0; i < count; i++) {
    try {
      const t = await withTimeout(
        timedFlow((p) => contender.openStream(p), target),
        10_000,
        'new flow',
      );
      firstByte.push(t.firstByteMs);
      setup.push(t.setupMs);
    } catch {
      failures++;
    }
  }
  return {
    p50: percentile(firstByte, 50),
    p90: percentile(firstByte, 90),
    p99: percentile(firstByte, 99),
    setupP50: percentile(setup, 50),
    setupP99: percentile(setup, 99),
    failures,
  };
}

export interface ColdStart {
  /** New client (process) started until the first byte of its first flow, median of the samples. */
  readonly firstByteMs: number;
  readonly samples: number[];
  readonly failures: number;
  /** Why the first failure failed, for the run's error line. */
  readonly firstFailure?: string;
}

export async function coldStarts(
  contender: Contender,
  target: TargetInfo,
  count: number,
): Promise<ColdStart> {
  const samples: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  for (let i = 0; i < count; i++) {
    const t0 = nowMs();
    let close: (() => Promise<void>) | undefined;
    try {
      const fresh = await contender.freshClient();
      close = () => fresh.close();
      const t = await withTimeout(
        timedFlow((p) => fresh.openStream(p), target, t0),
        20_000,
        'cold start',
      );
      samples.push(t.firstByteMs);
    } catch (err) {
      failures++;
      firstFailure ??= err instanceof Error ? err.message : String(err);
    } finally {
      await close?.();
    }
  }
  return {
    firstByteMs: percentile(samples, 50),
    samples,
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}
