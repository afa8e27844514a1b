/** The generated part of docs/benchmarks.md: method, machine, the table, memory and goals. */
import { FIGURES } from './figures.ts';
import { cell, nameOf, num } from './format.ts';
import { checkGoals } from './goals.ts';
import { machineLine } from './machine.ts';
import type { Results } from './results.ts';
import { REFERENCES } from './summary.ts';
import { UDP_DATAGRAM_BYTES, UDP_PING_BYTES } from '../measure/udp.ts';

const MiB = 1024 * 1024;

function resultsTable(results: Results): string[] {
  const ids = results.contenders.map((c) => c.id);
  const relayed = ids.filter((id) => id.startsWith('splitrelay'));
  const refs = REFERENCES.filter((r) => ids.includes(r));
  const ratioCols = relayed.flatMap((c) =>
    refs.map((r) => ({ key: `${c}/${r}`, title: `${nameOf(c)} ÷ ${nameOf(r)}` })),
  );
  const lines = [
    `| Figure | Unit | ${ids.map(nameOf).join(' | ')} | ${ratioCols.map((c) => c.title).join(' | ')} |`,
    `|---|---|${ids.map(() => '---:').join('|')}|${ratioCols.map(() => '---:').join('|')}|`,
  ];
  for (const f of FIGURES) {
    const s = results.summary[f.id];
    if (!s) continue;
    const arrow = f.better === 'higher' ? '↑' : '↓';
    lines.push(
      `| ${f.label} ${arrow} | ${f.unit} | ${ids.map((id) => cell(s.values[id])).join(' | ')} | ${ratioCols.map((c) => cell(s.ratios[c.key], '×')).join(' | ')} |`,
    );
  }
  return lines;
}

function memoryTables(results: Results): string[] {
  const mem = results.memory;
  if (!mem) return [];
  const lines = [
    '### Memory',
    '',
    'Growth of resident memory (VmRSS from /proc, after a full GC in the Node processes) divided by the number of items open; in brackets the same from PSS',
    '(/proc/PID/smaps_rollup, shared pages split among the processes sharing them), which matters for the forked sshd trees.',
    'For OpenSSH, "ingress" is the jump host\'s sshd process tree and "egress" the exit host\'s.',
    '',
    'The marginal columns divide the RSS growth between two counts by the items added between them: whatever an earlier phase left in the allocator cancels out.',
    '',
    '| What | Contender | Open | Ingress KiB each | Egress KiB each | Client KiB each | Marginal ingress KiB | Marginal egress KiB | Ingress RSS | Egress RSS |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rows = (what: string, byContender: Record<string, (typeof mem.idleFlows)[string]>) => {
    for (const [id, points] of Object.entries(byContender)) {
      for (const p of points) {
        const failed = p.failed > 0 ? ` (${p.failed} failed)` : '';
        lines.push(
          `| ${what} | ${nameOf(id)} | ${p.opened} of ${p.count}${failed} | ${num(p.perItemKiB.ingress)} (${num(p.perItemPssKiB.ingress)}) | ${num(p.perItemKiB.egress)} (${num(p.perItemPssKiB.egress)}) | ${num(p.perItemKiB.client)} (${num(p.perItemPssKiB.client)}) | ${num(p.marginalKiB?.ingress)} | ${num(p.marginalKiB?.egress)} | ${num(p.rssKiB.ingress / 1024)} MiB | ${num(p.rssKiB.egress / 1024)} MiB |`,
        );
      }
    }
  };
  rows('Idle flow', mem.idleFlows);
  rows('Client session', mem.sessions);
  lines.push('', ...mem.notes.map((n) => `- ${n}`));
  return lines;
}

function profileSection(results: Results): string[] {
  const p = results.profile;
  if (!p) return [];
  const lines = [
    '### Where the time goes (CPU profile of one bulk run)',
    '',
    `Fresh client app, ingress and egress under \`node --cpu-prof\`, one ${p.bytesEachWay / MiB} MiB download (${num(p.downloadMBps)} MB/s while profiled) and one upload (${num(p.uploadMBps)} MB/s).`,
    "User and system CPU are from /proc for the transfer only (system time is mostly loopback TCP in the kernel); the shares are of the busy (non-idle) profile samples over the process's whole life, start-up included.",
    `Profiles: ${results.options.quick ? 'bench/results/profiles/' : 'bench/results/profiles/ (not kept in git)'}, open them in Chrome DevTools or speedscope.`,
    '',
    '| Role | User s | System s | Idle | Busy samples by category | Top self time (of busy) |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const [role, r] of Object.entries(p.roles)) {
    const cats = Object.entries(r.summary.categories)
      .filter(([, v]) => v >= 1)
      .map(([k, v]) => `${k} ${v.toFixed(0)}%`)
      .join('; ');
    const top = r.summary.top
      .slice(0, 5)
      .map((t) => `\`${t.fn.replace(/\|/g, '\\|')}\` ${t.percent.toFixed(1)}%`)
      .join('; ');
    lines.push(
      `| ${role} | ${num(r.userSeconds)} | ${num(r.systemSeconds)} | ${r.summary.idlePercent.toFixed(0)}% | ${cats} | ${top} |`,
    );
  }
  return lines;
}

function goalsTable(results: Results): string[] {
  const lines = [
    '### Goals (issue 6), this run',
    '',
    '| Goal | Measured (median of per-round values) | Met |',
    '|---|---:|:---:|',
  ];
  for (const g of checkGoals(results)) {
    lines.push(
      `| ${g.goal} | ${g.measured} | ${g.met === undefined ? '–' : g.met ? 'yes' : '**no**'} |`,
    );
  }
  return lines;
}

function udpLines(results: Results): string[] {
  const o = results.options;
  if (!results.summary['udp.rate'] && !results.summary['udp.p50']) return [];
  return [
    `- UDP: the target's UDP echo port (127.0.4.1). Direct sends from 127.0.1.1; SplitRelay goes through the client app's SOCKS5 UDP ASSOCIATE (RFC 1928 §7; each datagram becomes a DATAGRAM capsule on a CONNECT-UDP stream of the inner h2 session, RFC 9298/9297)${results.contenders.some((c) => c.id === 'splitrelay-sdk') ? ', the SDK through its own `openUdp` in the measuring process' : ''}; OpenSSH forwards no UDP (\`-D\` is TCP only): "–". One path per contender and round, warmed by one echo. Latency: ${o.udpPings} sequential ${UDP_PING_BYTES}-byte pings, one in flight, p50/p99 of the echo time. Throughput: ${o.udpWindow} datagrams of ${UDP_DATAGRAM_BYTES} bytes in flight for ${o.udpSeconds} s, each echo sending the next; echoes per second (every datagram crosses both hops twice), loss = sent but never echoed (a datagram not echoed within 500 ms frees its slot).`,
  ];
}

export function renderMarkdown(results: Results, svgName: string): string {
  const o = results.options;
  const ssh = results.contenders.filter((c) => c.command);
  const errors = results.rounds.flatMap((r) =>
    r.errors.map(
      (e) => `- round ${r.index + 1}, ${e.step}, ${nameOf(e.contender)}: ${e.error.split('\n')[0]}`,
    ),
  );
  return [
    `Measured ${results.date.slice(0, 10)} with \`${results.command}\`${o.quick ? ' (**quick smoke run: small sizes, not representative**)' : ''}, in ${Math.round(results.durationSeconds)} s.`,
    '',
    `- Machine: ${machineLine(results.machine)}. Every process (measuring client, relays, sshd, target) shares these cores.`,
    `- Load average (1 min) at the start of each round: ${results.rounds.map((r) => r.loadAverage[0]?.toFixed(2)).join(', ')} (other work shared the machine: absolute figures move, same-round ratios less).`,
    `- ${o.rounds} rounds; in each round every figure is measured for every contender, the order rotating by round. Cells are median (min–max) over rounds; ratios are taken within each round, then summarized.`,
    `- Sizes: bulk ${o.bulkBytes / MiB} MiB per direction, ${o.flows} sequential new flows, ${o.coldStarts} cold starts per round (median), ${o.concurrentFlows} concurrent flows × ${o.concurrentBytes / MiB} MiB.`,
    '- Every flow is TLS 1.3 TLS_AES_128_GCM_SHA256 from the measuring client to the target (127.0.4.1), relayed or not; flows through a relay go through its SOCKS5 port with the same SOCKS5 client (@splitrelay/socks5 codecs).',
    '- SplitRelay: client app (SOCKS5) → ingress 127.0.2.1 → egress 127.0.3.1, the real apps with their TLS 1.3 AES-128-GCM hops (outer TLS, trunk TLS + h2, inner TLS + h2); the client app runs as shipped, bundled (`pnpm run build`, apps/client/dist), the relays from their sources. Privacy Pass is on: an issuer runs beside the relays and each client session pays one token.',
    ...ssh.map(
      (c) =>
        `- ${c.label}: \`${c.command}\` with two throwaway sshd (jump 127.0.5.1, exit 127.0.6.1; the same cipher on both hops via the -F config).`,
    ),
    '- First byte: from the start of the flow (SOCKS connect, or TCP connect for direct) through the target TLS handshake to the first response byte. Cold start: from spawning a new client process (`ssh -N -D -J`, or the SplitRelay client app) until the first byte of its first flow; the ports are polled every 1 ms. Direct has no client process: its cold start is one new connection.',
    "- CPU: utime + stime from /proc/PID/stat of each role's process tree during the bulk transfer, scaled to seconds per GiB.",
    ...udpLines(results),
    '',
    ...resultsTable(results),
    '',
    '↑ higher is better, ↓ lower is better.',
    '',
    `![Ratios of SplitRelay to direct and to OpenSSH](${svgName})`,
    '',
    ...memoryTables(results),
    '',
    ...profileSection(results),
    '',
    ...goalsTable(results),
    ...(errors.length > 0 ? ['', '### Errors during the run', '', ...errors] : []),
    '',
  ].join('\n');
}
