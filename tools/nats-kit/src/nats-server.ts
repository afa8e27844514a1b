/**
 * A running nats-server as tests see it: where to connect, and the three ways it can go away
 * (`kill` as an outage that `restart` undoes, `stop` for good).
 */
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { ServerProcess, type ServerSpec, type WaitForLogOptions } from './server-process.ts';

export interface NatsServer {
  /** `nats://host:port`, the same across restarts. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  /** JetStream's directory; it survives `kill` and `restart`. */
  readonly storeDir: string;
  /** The current nats-server process (a restart replaces it). */
  readonly process: ChildProcess;
  readonly running: boolean;
  /** What the server printed (its log), across restarts. */
  logs(): string[];
  readonly logPosition: number;
  waitForLog(pattern: RegExp, options?: WaitForLogOptions): Promise<string>;
  /** The server goes away, as in a crash (SIGKILL, the default) or a shutdown (SIGTERM). */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Shuts down for good and removes the directories the kit created. Idempotent. */
  stop(): Promise<void>;
}

export interface NodeSpec extends ServerSpec {
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  readonly storeDir: string;
  /** Removed by `stop()` (a directory the kit made, not the caller's). */
  readonly ownedDir: string | undefined;
}

export class NatsNode implements NatsServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  readonly storeDir: string;
  readonly #server: ServerProcess;
  readonly #ownedDir: string | undefined;

  constructor(spec: NodeSpec) {
    this.host = spec.host;
    this.port = spec.port;
    this.url = `nats://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
    this.serverName = spec.serverName;
    this.storeDir = spec.storeDir;
    this.#ownedDir = spec.ownedDir;
    this.#server = new ServerProcess(spec);
  }

  get process(): ChildProcess {
    return this.#server.process;
  }

  get running(): boolean {
    return this.#server.running;
  }

  get logPosition(): number {
    return this.#server.logPosition;
  }

  logs(): string[] {
    return this.#server.logs();
  }

  waitForLog(pattern: RegExp, options?: WaitForLogOptions): Promise<string> {
    return this.#server.waitForLog(pattern, options);
  }

  start(): Promise<void> {
    return this.#server.start();
  }

  kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    return this.#server.kill(signal);
  }

  async restart(): Promise<void> {
    await this.#server.kill('SIGTERM');
    await this.#server.start();
  }

  async stop(): Promise<void> {
    await this.#server.kill('SIGTERM');
    if (this.#ownedDir) await rm(this.#ownedDir, { recursive: true, force: true });
  }
}
