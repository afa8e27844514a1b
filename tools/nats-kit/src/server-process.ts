/**
 * One nats-server process that can die and come back on the same port and store, as an outage
 * would leave it. Readiness is the server's own "Server is ready" line, which it prints once
 * the client listener is bound (JetStream is up by then on a single node).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServerSpec {
  readonly binary: string;
  readonly configFile: string;
  /** Added to the parent's environment: the SPLITRELAY_NATS_* variables of the config. */
  readonly env: Readonly<Record<string, string>>;
  readonly readyTimeoutMs: number;
}

export interface WaitForLogOptions {
  readonly timeoutMs?: number;
  /** Position (see `logPosition`) to search from; the current run's first line by default. */
  readonly since?: number;
  /** Gives up waiting (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

const READY = /\[INF\] Server is ready$/;
const MAX_LINES = 20_000;
const TERM_GRACE_MS = 5_000;

// A test that crashes must not leave servers holding ports for the next run.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
}

export class ServerProcess {
  readonly #spec: ServerSpec;
  readonly #lines: string[] = [];
  readonly #listeners = new Set<(line: string, index: number) => void>();
  #child: ChildProcess | undefined;
  #closed: Promise<void> = Promise.resolve();
  #runStart = 0;
  #dropped = 0;

  constructor(spec: ServerSpec) {
    this.#spec = spec;
  }

  /** The current (or last) process; a restart replaces it. */
  get process(): ChildProcess {
    if (!this.#child) throw new Error('nats-server was never started');
    return this.#child;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Every line the server printed, across restarts (a `--- restart ---` line between runs). */
  logs(): string[] {
    return [...this.#lines];
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('nats-server is already running');
    if (this.#child) this.#push('--- restart ---');
    this.#runStart = this.#dropped + this.#lines.length;
    const child = spawn(this.#spec.binary, ['-c', this.#spec.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.#spec.env },
    });
    track(child);
    this.#child = child;
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err));
    // 'close' comes after 'exit' and after stdio ends, so awaiting it leaves no handle behind.
    this.#closed = new Promise<void>((resolve) =>
      child.once('close', () => {
        live.delete(child);
        resolve();
      }),
    );
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.#push(line));
    }
    const exitedEarly = this.#closed.then(() => {
      const tail = this.#lines.slice(-30).join('\n');
      throw new Error(
        `nats-server exited before it was ready (${spawnError?.message ?? `code ${child.exitCode}, signal ${child.signalCode}`}):\n${tail}`,
      );
    });
    // Once ready, the later exit is not an error of start(): nothing may reject unhandled.
    exitedEarly.catch(() => {});
    const giveUp = new AbortController();
    try {
      await Promise.race([
        this.waitForLog(READY, { timeoutMs: this.#spec.readyTimeoutMs, signal: giveUp.signal }),
        exitedEarly,
      ]);
    } catch (err) {
      giveUp.abort(err);
      await this.kill('SIGKILL');
      throw err;
    }
  }

  /** Ends the process like a crash (SIGKILL) or a clean shutdown (SIGTERM, then SIGKILL). */
  async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child && this.running) {
      child.kill(signal);
      const escalate =
        signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), TERM_GRACE_MS) : undefined;
      await this.#closed;
      clearTimeout(escalate);
    }
    await this.#closed;
  }

  /** Resolves with the first line matching `pattern`, or rejects after the timeout. */
  waitForLog(pattern: RegExp, options: WaitForLogOptions = {}): Promise<string> {
    const since = options.since ?? this.#runStart;
    for (let i = Math.max(0, since - this.#dropped); i < this.#lines.length; i++) {
      const line = this.#lines[i]!;
      if (pattern.test(line)) return Promise.resolve(line);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#listeners.delete(listener);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const listener = (line: string): void => {
        if (!pattern.test(line)) return;
        done();
        resolve(line);
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`nats-server printed no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#listeners.add(listener);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Index the next line will have in `logs()` order (for `waitForLog({ since })`). */
  get logPosition(): number {
    return this.#dropped + this.#lines.length;
  }

  #push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > MAX_LINES) {
      this.#lines.shift();
      this.#dropped++;
    }
    const index = this.#dropped + this.#lines.length - 1;
    for (const listener of [...this.#listeners]) listener(line, index);
  }
}
