/**
 * This host's local routes, read the way an operator would check them: `ip -j -4 route show
 * table local` and `ip -j -6 route show table local`. A pool prefix can be drawn from only
 * when all of its addresses are local here (configured, or bound as AnyIP).
 */
import { execFileSync } from 'node:child_process';
import { localRoutesFromIpJson, type Prefix } from '@splitrelay/egress-addresses';

export type RunIp = (args: readonly string[]) => string;

const runIp: RunIp = (args) =>
  execFileSync('ip', [...args], {
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** The local routes, or why they could not be read (one line, for the config problems). */
export function readLocalRoutes(run: RunIp = runIp): readonly Prefix[] | string {
  try {
    const v4: unknown = JSON.parse(run(['-j', '-4', 'route', 'show', 'table', 'local']));
    // A host without IPv6 prints nothing at all here.
    const v6text = run(['-j', '-6', 'route', 'show', 'table', 'local']).trim();
    const v6: unknown = v6text === '' ? [] : JSON.parse(v6text);
    return localRoutesFromIpJson(v4, v6);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];
    return `cannot read this host's local routes with \`ip -j route show table local\` (${String(reason)}): install iproute2`;
  }
}
