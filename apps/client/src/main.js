#!/usr/bin/env node
/**
 * splitrelay-client --config client.json
 *
 * Only this file loads before the compile cache is on: the program (and its type-stripped
 * TypeScript) then comes from the cache on every later start, which is most of a cold start.
 * It is plain JavaScript so that a start needs no TypeScript stripper at all once cached
 * (~50 ms: docs/benchmarks.md "Cold start").
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./run.ts');
