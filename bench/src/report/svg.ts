/**
 * The ratio plot, written by hand: one group per figure, one horizontal bar per reference
 * (SplitRelay ÷ direct, ÷ OpenSSH aes128-gcm, ÷ OpenSSH chacha20), on a log scale around 1,
 * with min–max whiskers over rounds. Green where SplitRelay is better, red where worse.
 */
import { FIGURES } from './figures.ts';
import { nameOf, num } from './format.ts';
import type { Results } from './results.ts';
import { REFERENCES } from './summary.ts';
import type { Summary } from './stats.ts';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Bar {
  readonly label: string;
  readonly s: Summary;
  readonly better: boolean;
}

export function renderSvg(results: Results): string {
  const relayed = results.contenders.map((c) => c.id).filter((id) => id.startsWith('splitrelay'));
  const groups: { title: string; bars: Bar[] }[] = [];
  for (const f of FIGURES.filter((x) => x.plot)) {
    const s = results.summary[f.id];
    if (!s) continue;
    const bars: Bar[] = [];
    for (const c of relayed) {
      for (const ref of REFERENCES) {
        const r = s.ratios[`${c}/${ref}`];
        if (!r || r.n === 0) continue;
        const prefix = relayed.length > 1 ? `${nameOf(c)} ÷ ` : '÷ ';
        bars.push({
          label: `${prefix}${nameOf(ref)}`,
          s: r,
          better: f.better === 'higher' ? r.median >= 1 : r.median <= 1,
        });
      }
    }
    if (bars.length > 0)
      groups.push({ title: `${f.label} (${f.unit}, ${f.better} is better)`, bars });
  }
  const all = groups.flatMap((g) => g.bars.flatMap((b) => [b.s.min, b.s.max]));
  const lo = Math.min(0.1, ...all) / 1.3;
  const hi = Math.max(10, ...all) * 1.3;
  const labelW = 190;
  const plotW = 560;
  const left = labelW + 20;
  const rowH = 17;
  const headH = 20;
  const gap = 10;
  const top = 64;
  const height = top + groups.reduce((h, g) => h + headH + g.bars.length * rowH + gap, 0) + 40;
  const width = left + plotW + 90;
  const x = (v: number): number =>
    left +
    ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">SplitRelay ÷ reference, same round (median, min–max over ${results.options.rounds} rounds; log scale)</text>`,
    `<text x="12" y="42" fill="#555">${esc(`${results.date.slice(0, 10)} · ${results.machine.cpu}, ${results.machine.cores} cores · Node ${results.machine.node} · ${results.machine.openssh}${results.options.quick ? ' · QUICK RUN' : ''}`)}</text>`,
    `<text x="12" y="58" fill="#555"><tspan fill="#2e7d32">■</tspan> SplitRelay better   <tspan fill="#c62828">■</tspan> SplitRelay worse</text>`,
  ];
  const ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].filter(
    (t) => t >= lo && t <= hi,
  );
  const bottom = height - 30;
  for (const t of ticks) {
    out.push(
      `<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${bottom}" stroke="${t === 1 ? '#333' : '#ddd'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`,
    );
    out.push(`<text x="${x(t)}" y="${bottom + 16}" text-anchor="middle" fill="#555">${t}×</text>`);
  }
  let y = top;
  for (const g of groups) {
    out.push(`<text x="12" y="${y + 14}" font-weight="bold">${esc(g.title)}</text>`);
    y += headH;
    for (const b of g.bars) {
      const color = b.better ? '#2e7d32' : '#c62828';
      const x0 = x(1);
      const x1 = x(b.s.median);
      out.push(`<text x="${labelW}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>`);
      out.push(
        `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${rowH - 6}" fill="${color}" fill-opacity="0.75"/>`,
      );
      if (b.s.n > 1) {
        const wy = y + rowH / 2;
        out.push(
          `<line x1="${x(b.s.min).toFixed(1)}" y1="${wy}" x2="${x(b.s.max).toFixed(1)}" y2="${wy}" stroke="#222"/>`,
        );
        for (const v of [b.s.min, b.s.max])
          out.push(
            `<line x1="${x(v).toFixed(1)}" y1="${wy - 4}" x2="${x(v).toFixed(1)}" y2="${wy + 4}" stroke="#222"/>`,
          );
      }
      out.push(
        `<text x="${(x(Math.max(1, b.s.max, b.s.median)) + 6).toFixed(1)}" y="${y + 12}" fill="#222">${num(b.s.median)}×</text>`,
      );
      y += rowH;
    }
    y += gap;
  }
  out.push('</svg>', '');
  return out.join('\n');
}
