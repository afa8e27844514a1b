/**
 * The client's view of the egresses: signed entries verified against the egress operators'
 * keys (never trusting the ingress that serves them), from a file or from the ingress's
 * `/.well-known/splitrelay/directory`, and the egress health the ingress reports. Refreshed
 * periodically; a failed refresh keeps the last verified state (fail static).
 */
import https from 'node:https';
import { readSignedEntries } from '@splitrelay/directory-source';
// The store alone: the package's index would load the NATS client, which a client never uses.
import { DirectoryStore } from '@splitrelay/control-plane/directory-store';
import type { Entry, TrustedKeys } from '@splitrelay/directory';
import type { IngressAddress } from '@splitrelay/outer-hop';

export const DIRECTORY_PATH = '/.well-known/splitrelay/directory';
export const EGRESS_HEALTH_PATH = '/.well-known/splitrelay/egress-health';
const MAX_BODY_BYTES = 1024 * 1024;

function getJson(
  ingress: IngressAddress,
  path: string,
  localAddress: string | undefined,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: ingress.host,
        port: ingress.port,
        path,
        servername: ingress.servername,
        ...(ingress.ca ? { ca: ingress.ca as string[] } : {}),
        ...(localAddress ? { localAddress } : {}),
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error('directory too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200)
            return reject(new Error(`ingress answered ${res.statusCode} for ${path}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('directory request timed out')));
    req.on('error', reject);
  });
}

export class ClientDirectory {
  readonly #store = new DirectoryStore();
  readonly #keys: TrustedKeys;
  #health = new Map<string, string>();
  rejected = 0;

  constructor(keys: TrustedKeys) {
    this.#keys = keys;
  }

  entries(): Map<string, Entry> {
    return this.#store.entries(Math.floor(Date.now() / 1000));
  }

  health(): ReadonlyMap<string, string> {
    return this.#health;
  }

  /** Verifies and keeps each entry; returns how many were refused (bad signature, expired, ...). */
  apply(file: unknown): number {
    const entries = (file as { entries?: unknown[] } | null)?.entries;
    let refused = 0;
    for (const signed of Array.isArray(entries) ? entries : []) {
      const result = this.#store.apply(signed, this.#keys, Math.floor(Date.now() / 1000));
      if (!result.accepted && result.reason !== 'stale-version') refused++;
    }
    this.rejected += refused;
    return refused;
  }

  loadFile(path: string): number {
    return this.apply({ entries: readSignedEntries(path) });
  }

  async fetchFrom(ingress: IngressAddress, localAddress?: string): Promise<number> {
    const refused = this.apply(await getJson(ingress, DIRECTORY_PATH, localAddress));
    const health = (await getJson(ingress, EGRESS_HEALTH_PATH, localAddress).catch(
      () => undefined,
    )) as { egresses?: Record<string, unknown> } | undefined;
    if (health?.egresses) {
      this.#health = new Map(
        Object.entries(health.egresses).filter(
          (kv): kv is [string, string] => typeof kv[1] === 'string',
        ),
      );
    }
    return refused;
  }
}
