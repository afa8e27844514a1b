#!/usr/bin/env node
/**
 * splitrelay-issuer --config issuer.json
 *
 * Only this file loads before the compile cache is on: the program (and its type-stripped
 * TypeScript) then comes from the cache on every later start (see apps/egress/src/main.js).
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./run.ts');
