/**
 * Medians and ranges over rounds, and ratios taken inside each round (a contender against
 * direct and against each OpenSSH cipher) before summarizing, so a noisy round moves both
 * sides of a ratio together.
 */
import type { Round } from '../rounds.ts';
import { FIGURES } from './figures.ts';
import { summarize, type Summary } from './stats.ts';

export const REFERENCES = ['direct', 'ssh-aes128-gcm', 'ssh-chacha20'] as const;

export interface FigureSummary {
  readonly values: Record<string, Summary>;
  /** Keyed `contender/reference`, e.g. `splitrelay/ssh-aes128-gcm`. */
  readonly ratios: Record<string, Summary>;
}

export function summarizeRounds(
  rounds: readonly Round[],
  contenders: readonly string[],
): Record<string, FigureSummary> {
  const out: Record<string, FigureSummary> = {};
  for (const figure of FIGURES) {
    const values: Record<string, Summary> = {};
    const ratios: Record<string, Summary> = {};
    for (const c of contenders) {
      const series = rounds
        .map((r) => r.values[figure.id]?.[c])
        .filter((v): v is number => v !== undefined);
      if (series.length > 0) values[c] = summarize(series);
      if (c === 'direct') continue;
      for (const ref of REFERENCES) {
        if (ref === c || (ref === 'direct' && figure.ratioToDirect === false)) continue;
        const ratioSeries = rounds.flatMap((r) => {
          const mine = r.values[figure.id]?.[c];
          const theirs = r.values[figure.id]?.[ref];
          return mine !== undefined && theirs !== undefined && theirs > 0 ? [mine / theirs] : [];
        });
        if (ratioSeries.length > 0) ratios[`${c}/${ref}`] = summarize(ratioSeries);
      }
    }
    if (Object.keys(values).length > 0) out[figure.id] = { values, ratios };
  }
  return out;
}
