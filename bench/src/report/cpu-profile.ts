/**
 * Reads a V8 .cpuprofile (as written by `node --cpu-prof`) into where the samples went: a few
 * categories and the functions with the most self time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly sampledMs: number;
  /** Share of the samples spent idle in the event loop, in percent. */
  readonly idlePercent: number;
  /** Share of the busy (non-idle) samples, in percent. */
  readonly categories: Record<string, number>;
  readonly top: { readonly fn: string; readonly percent: number }[];
}

const IDLE = '(idle)';

function category(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'native, unattributed (libuv callbacks, TLS on read)';
  if (url === '') return 'native calls from JS (socket writes, TLS encrypt)';
  if (url.includes('node_modules/.pnpm/')) return 'dependencies (JS)';
  if (url.includes('internal/js_stream_socket')) return 'JSStreamSocket shim (JS)';
  if (url.includes('internal/http2')) return 'node http2 (JS)';
  if (url.startsWith('node:_tls') || url.includes('internal/tls')) return 'node tls (JS)';
  if (url.includes('internal/streams') || url.startsWith('node:stream')) return 'node streams (JS)';
  if (url.startsWith('node:net') || url.includes('internal/stream_base_commons'))
    return 'node net (JS)';
  if (url.includes('internal/modules') || url.includes('internal/bootstrap'))
    return 'module loading (JS)';
  if (url.startsWith('node:')) return 'node core, other (JS)';
  if (url.includes('/packages/') || url.includes('/apps/')) return 'SplitRelay code (JS)';
  return 'other';
}

function shortUrl(url: string): string {
  const at =
    url.lastIndexOf('/packages/') >= 0
      ? url.lastIndexOf('/packages/') + 1
      : url.lastIndexOf('/apps/') + 1;
  return at > 0
    ? url.slice(at)
    : url.replace(/^file:\/\/.*node_modules\/\.pnpm\/([^/]+)\/.*\/([^/]+)$/, '$1/$2');
}

export function summarizeProfile(file: string, topN = 8): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === IDLE) {
      idle += dt;
      return;
    }
    total += dt;
    const c = category(functionName, url);
    cats.set(c, (cats.get(c) ?? 0) + dt);
    const key = url
      ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`
      : functionName || '(anonymous)';
    fns.set(key, (fns.get(key) ?? 0) + dt);
  });
  const pct = (v: number): number => (total > 0 ? (100 * v) / total : 0);
  return {
    sampledMs: (total + idle) / 1000,
    idlePercent: total + idle > 0 ? (100 * idle) / (total + idle) : 0,
    categories: Object.fromEntries(
      [...cats].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)]),
    ),
    top: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, v]) => ({ fn, percent: pct(v) })),
  };
}
