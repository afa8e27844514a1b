/** Where the harness finds the real apps, its role programs, and the deployment's examples. */
import { fileURLToPath } from 'node:url';

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

export type AppName = 'ingress' | 'egress' | 'issuer' | 'client';

/** The app's own entry, as its operator runs it. */
export const appMain = (app: AppName): string => here(`../../../../apps/${app}/src/main.js`);

/** The deployment's example config of an operator app (what the lab uses by default). */
export const exampleConfig = (app: Exclude<AppName, 'client'>): string =>
  here(`../../../../deploy/${app}/${app}.example.json`);

export const ROLE_PROGRAMS = {
  canaryTarget: here('./roles/canary-target.ts'),
  clientResolver: here('./roles/client-resolver.ts'),
  controlPlaneObserver: here('./roles/control-plane-observer.ts'),
  trafficDriver: here('./roles/traffic-driver.ts'),
} as const;

export const CLIENT_OBSERVER_PRELOAD = here('./preloads/client-observer.ts');
