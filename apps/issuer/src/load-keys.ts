/** Reads the configured token keys from their files into an IssuerKeySet (at start and on SIGHUP). */
import { readFile } from 'node:fs/promises';
import type { DeepReadonly } from '@splitrelay/config';
import {
  IssuerKeySet,
  loadIssuerKey,
  TOKEN_TYPE_BLIND_RSA,
  type ScheduledKey,
} from '@splitrelay/privacy-pass';
import type { IssuerConfig } from './config.ts';

export async function loadKeySet(keys: DeepReadonly<IssuerConfig['keys']>): Promise<IssuerKeySet> {
  const scheduled: ScheduledKey[] = [];
  for (const [i, k] of keys.entries()) {
    let pem: string;
    try {
      pem = await readFile(k.privateKey, 'utf8');
    } catch (err) {
      throw new Error(
        `keys.${i}: cannot read ${k.privateKey}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        { cause: err },
      );
    }
    try {
      scheduled.push({
        key: await loadIssuerKey(pem),
        notBefore: k.notBefore,
        notAfter: k.notAfter,
      });
    } catch {
      // The key's own error could quote the file; say only which one is wrong.
      throw new Error(
        `keys.${i}: ${k.privateKey} is not a token key for type ${TOKEN_TYPE_BLIND_RSA} (2048-bit RSA, PKCS#8 PEM)`,
      );
    }
  }
  return new IssuerKeySet(scheduled);
}
