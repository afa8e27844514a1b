/**
 * The command line of splitrelay-audit, parsed into one of its commands. Pure: every problem
 * is reported with the usage, and nothing runs half-understood.
 */
import { CONTROL_NAMES, isControlName, type ControlName } from '@splitrelay/audit';

export const USAGE = `usage:
  splitrelay-audit lab  [--ingress-config FILE] [--egress-config FILE] [--issuer-config FILE]
                        [--evidence DIR] [--mode auto|netns|loopback] [--quick] [--control NAME]...
  splitrelay-audit live SETTINGS.json [--evidence DIR] [--quick]
  splitrelay-audit analyze EVIDENCE-DIR
  splitrelay-audit sweep

  lab      builds the namespace lab, runs the real apps with the operator's configs
           (deploy/*/*.example.json by default), drives canary traffic, observes every party
           and link, tears everything down, and writes the report
  live     audits a deployment the auditor does not run, from a client, a canary target and
           the control plane's AUDITOR account (see docs/auditor-guide.md for the settings)
  analyze  writes the report of an evidence folder again (after adding a check, say)
  sweep    removes what a killed lab run left behind

  --control NAME   inject a deliberately leaky build (a negative control): ${CONTROL_NAMES.join(', ')}

The command prints the report's path and exits 1 when any cell is red or any check failed.`;

export type Command =
  | {
      readonly command: 'lab';
      readonly evidence?: string;
      readonly mode: 'auto' | 'netns' | 'loopback';
      readonly quick: boolean;
      readonly controls: readonly ControlName[];
      readonly configs: { ingress?: string; egress?: string; issuer?: string };
    }
  | {
      readonly command: 'live';
      readonly settings: string;
      readonly evidence?: string;
      readonly quick: boolean;
    }
  | { readonly command: 'analyze'; readonly dir: string }
  | { readonly command: 'sweep' }
  | { readonly command: 'help' };

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const booleans = new Set(['--quick', '--help']);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    if (booleans.has(a)) {
      flags.set(a, ['true']);
      continue;
    }
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${a} needs a value`);
    flags.set(a, [...(flags.get(a) ?? []), value]);
    i++;
  }
  const one = (flag: string): string | undefined => {
    const v = flags.get(flag);
    if (v && v.length > 1) throw new UsageError(`${flag} given twice`);
    return v?.[0];
  };
  const allowed = (list: readonly string[]): void => {
    for (const f of flags.keys())
      if (!list.includes(f)) throw new UsageError(`unknown option ${f} for ${command}`);
  };
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
      return { command: 'help' };
    case 'lab': {
      allowed([
        '--ingress-config',
        '--egress-config',
        '--issuer-config',
        '--evidence',
        '--mode',
        '--quick',
        '--control',
      ]);
      if (positional.length > 0) throw new UsageError(`unexpected ${positional.join(' ')}`);
      const mode = one('--mode') ?? 'auto';
      if (mode !== 'auto' && mode !== 'netns' && mode !== 'loopback')
        throw new UsageError(`--mode ${mode}?`);
      const controls = flags.get('--control') ?? [];
      for (const c of controls) if (!isControlName(c)) throw new UsageError(`unknown control ${c}`);
      const evidence = one('--evidence');
      const ingress = one('--ingress-config');
      const egress = one('--egress-config');
      const issuer = one('--issuer-config');
      return {
        command: 'lab',
        mode,
        quick: flags.has('--quick'),
        controls: controls as ControlName[],
        ...(evidence ? { evidence } : {}),
        configs: {
          ...(ingress ? { ingress } : {}),
          ...(egress ? { egress } : {}),
          ...(issuer ? { issuer } : {}),
        },
      };
    }
    case 'live': {
      allowed(['--evidence', '--quick']);
      if (positional.length !== 1) throw new UsageError('live needs one settings file');
      const evidence = one('--evidence');
      return {
        command: 'live',
        settings: positional[0] as string,
        quick: flags.has('--quick'),
        ...(evidence ? { evidence } : {}),
      };
    }
    case 'analyze':
      allowed([]);
      if (positional.length !== 1) throw new UsageError('analyze needs one evidence folder');
      return { command: 'analyze', dir: positional[0] as string };
    case 'sweep':
      allowed([]);
      return { command: 'sweep' };
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}
