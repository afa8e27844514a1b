/**
 * The client's view of the egresses: signed entries verified against the egress operators'
 * keys (never trusting the ingress that serves them), from a file or from the ingress's
 * well-known directory, and the egress health the ingress reports. Refreshed periodically;
 * a failed refresh keeps the last verified state until it expires (fail static).
 */
import https from 'node:https';
import {
  DIRECTORY_PATH,
  DirectoryStore,
  EGRESS_HEALTH_PATH,
  readSignedEntries,
  type Entry,
  type TrustedKeys,
} from '@splitrelay/directory';
import type { IngressAddress } from '@splitrelay/outer-hop';

const MAX_BODY_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/** Where the directory comes from: the ingress (the usual case) or a file an operator ships. */
export type DirectorySource =
  | { readonly ingress: IngressAddress; readonly localAddress?: string | undefined }
  | { readonly file: string };

export interface EgressDirectoryOptions {
  /** The egress operators' Ed25519 public keys (PEM) by key id: the only keys trusted. */
  readonly operatorKeys: TrustedKeys;
  readonly source: DirectorySource;
  /** How often to refresh, in ms (default 5 minutes). */
  readonly refreshMs?: number;
  /** Told about refused entries and failed refreshes (the state is kept either way). */
  readonly onProblem?: (problem: { refused?: number; reason?: string }) => void;
  readonly now?: () => number;
}

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
        timeout: FETCH_TIMEOUT_MS,
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

export class EgressDirectory {
  readonly #store = new DirectoryStore();
  readonly #options: EgressDirectoryOptions;
  readonly #now: () => number;
  #health = new Map<string, string>();
  #timers: NodeJS.Timeout[] = [];
  #first: Promise<void> | undefined;
  #stopped = false;
  rejected = 0;

  constructor(options: EgressDirectoryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  entries(): Map<string, Entry> {
    return this.#store.entries(Math.floor(this.#now() / 1000));
  }

  health(): ReadonlyMap<string, string> {
    return this.#health;
  }

  /** Verifies and keeps each entry; returns how many were refused (bad signature, expired, ...). */
  apply(file: unknown): number {
    const entries = (file as { entries?: unknown[] } | null)?.entries;
    let refused = 0;
    for (const signed of Array.isArray(entries) ? entries : []) {
      const result = this.#store.apply(
        signed,
        this.#options.operatorKeys,
        Math.floor(this.#now() / 1000),
      );
      if (!result.accepted && result.reason !== 'stale-version') refused++;
    }
    this.rejected += refused;
    return refused;
  }

  /** One refresh from the source; throws when the source cannot be read. */
  async refresh(): Promise<number> {
    const source = this.#options.source;
    if ('file' in source) return this.apply({ entries: readSignedEntries(source.file) });
    const refused = this.apply(await getJson(source.ingress, DIRECTORY_PATH, source.localAddress));
    const health = (await getJson(source.ingress, EGRESS_HEALTH_PATH, source.localAddress).catch(
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

  /** A refresh that never throws: problems go to `onProblem`, the last state stays. */
  async #refreshQuietly(): Promise<void> {
    try {
      const refused = await this.refresh();
      if (refused > 0) this.#options.onProblem?.({ refused });
    } catch (err) {
      this.#options.onProblem?.({ reason: (err as Error).message });
    }
  }

  /**
   * Starts refreshing (first now, then every `refreshMs`) and resolves after the first
   * attempt. Until an egress is known it looks again every second: an ingress that has not
   * yet heard from any egress over its control plane is a moment to wait through.
   */
  start(): Promise<void> {
    this.#first ??= (async () => {
      await this.#refreshQuietly();
      if (this.#stopped) return;
      const every = setInterval(
        () => void this.#refreshQuietly(),
        this.#options.refreshMs ?? 300_000,
      );
      every.unref();
      const eager = setInterval(() => {
        if (this.entries().size > 0) clearInterval(eager);
        else void this.#refreshQuietly();
      }, 1000);
      eager.unref();
      this.#timers.push(every, eager);
    })();
    return this.#first;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }
}
