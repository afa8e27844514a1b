/**
 * The negative controls: deliberately leaky builds of the real apps, each a preload injected
 * with `node --import` (src/preloads/leaky/), and the privacy-table cells each must turn red.
 * A harness whose checks cannot fail would pass them all; this list is how its tests show
 * that every check can.
 */
import { fileURLToPath } from 'node:url';
import type { Party, Property } from '@splitrelay/evidence';

export type ControlApp = 'client' | 'ingress' | 'egress' | 'issuer';

export interface Control {
  readonly description: string;
  /** Preload files per app. */
  readonly preloads: Partial<Record<ControlApp, readonly string[]>>;
  /** The cells this leak must turn red, and no others. */
  readonly red: readonly { readonly party: Party; readonly property: Property }[];
}

const leaky = (name: string): string =>
  fileURLToPath(new URL(`./preloads/leaky/${name}.ts`, import.meta.url));

export const CONTROLS = {
  'ingress-forwards-client-address': {
    description:
      "an ingress that forwards the client's address to the egress in Forwarded and X-Forwarded-For",
    preloads: { ingress: [leaky('ingress-forwards-client-address')] },
    red: [{ party: 'egress', property: 'knows-source' }],
  },
  'client-resolves-locally': {
    description: 'a client that resolves target names itself, through its network resolver',
    preloads: { client: [leaky('client-resolves-locally')] },
    red: [{ party: 'ingress', property: 'knows-destination' }],
  },
  'client-names-target': {
    description: 'a client that names its target to the ingress in a header of the outer CONNECT',
    preloads: { client: [leaky('client-names-target')] },
    red: [{ party: 'ingress', property: 'knows-destination' }],
  },
  'publisher-puts-target': {
    description:
      'an egress that publishes the targets it dials in its heartbeats on the control plane (which the ingress subscribes to)',
    preloads: { egress: [leaky('egress-publishes-target')] },
    red: [
      { party: 'control-plane', property: 'knows-destination' },
      { party: 'ingress', property: 'knows-destination' },
    ],
  },
  'egress-logs-peer': {
    description:
      'an egress that logs the peer of each session, taken from a forwarding header its ingress sends',
    preloads: {
      ingress: [leaky('ingress-forwards-client-address')],
      egress: [leaky('egress-logs-peer')],
    },
    red: [{ party: 'egress', property: 'knows-source' }],
  },
  'ingress-passes-token': {
    description: "an ingress that passes the client's Privacy Pass token on to the egress",
    preloads: { ingress: [leaky('ingress-passes-token')] },
    red: [{ party: 'egress', property: 'knows-source' }],
  },
  'issuer-records-nonce': {
    description:
      "an issuer that has clients send their tokens' nonces with each request, and logs them",
    preloads: { client: [leaky('client-sends-nonces')], issuer: [leaky('issuer-records-nonce')] },
    red: [{ party: 'issuer', property: 'knows-destination' }],
  },
} as const satisfies Record<string, Control>;

export type ControlName = keyof typeof CONTROLS;

export const CONTROL_NAMES = Object.keys(CONTROLS) as ControlName[];

export function isControlName(name: string): name is ControlName {
  return Object.hasOwn(CONTROLS, name);
}

/** The preloads of the given controls for one app, each once. */
export function preloadsFor(app: ControlApp, controls: readonly ControlName[]): string[] {
  return [...new Set(controls.flatMap((c) => (CONTROLS[c] as Control).preloads[app] ?? []))];
}
