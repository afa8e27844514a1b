/** Number formatting shared by the Markdown and SVG reports. */
import type { Summary } from './stats.ts';

export function num(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

/** `median (min–max)`, or just the median for a single round. */
export function cell(s: Summary | undefined, suffix = ''): string {
  if (!s || s.n === 0) return '–';
  if (s.n === 1 || s.min === s.max) return `${num(s.median)}${suffix}`;
  return `${num(s.median)}${suffix} (${num(s.min)}–${num(s.max)})`;
}

export const CONTENDER_NAMES: Record<string, string> = {
  direct: 'direct',
  splitrelay: 'SplitRelay',
  'splitrelay-sdk': 'SplitRelay SDK',
  'ssh-aes128-gcm': 'ssh -J aes128-gcm',
  'ssh-chacha20': 'ssh -J chacha20',
};

export const nameOf = (id: string): string => CONTENDER_NAMES[id] ?? id;
