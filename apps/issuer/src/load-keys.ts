/** Reads the configured token keys from their files into a KeySet (at start and on SIGHUP). */
import { readFile } from 'node:fs/promises';
import type { DeepReadonly } from '@splitrelay/config';
import { loadIssuerKey, TOKEN_TYPE_BLIND_RSA } from '@splitrelay/privacy-pass';
import type { IssuerConfig } from './config.ts';
import { KeySet, type ScheduledKey } from './key-set.ts';

export async function loadKeySet(keys: DeepReadonly<IssuerConfig['keys']>): Promise<KeySet> {
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
  return new KeySet(scheduled);
}
