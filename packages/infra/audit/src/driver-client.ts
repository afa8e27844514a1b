/**
 * The harness's side of the traffic driver (roles/traffic-driver.ts): one JSON command per
 * line on its stdin, one JSON answer per line on its stdout, matched by id, each bounded in
 * time so a stuck flow cannot stall the run.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { DriverCommand } from './roles/traffic-driver.ts';

export type DriverAnswer = Record<string, unknown> & {
  readonly reply: number;
  readonly ok?: boolean;
};

/** A command without its id (the client numbers them). */
export type DriverRequest = DriverCommand extends infer C
  ? C extends { id: number }
    ? Omit<C, 'id'>
    : never
  : never;

export class DriverClient {
  readonly #stdin: Writable;
  readonly #waiting = new Map<number, (answer: DriverAnswer) => void>();
  #next = 1;
  #closed = false;

  constructor(stdin: Writable, stdout: Readable) {
    this.#stdin = stdin;
    const lines = createInterface({ input: stdout });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const answer = JSON.parse(line) as DriverAnswer;
        this.#waiting.get(answer.reply)?.(answer);
        this.#waiting.delete(answer.reply);
      } catch {
        // Not an answer (a stray line); the driver writes nothing else as JSON.
      }
    });
    lines.once('close', () => {
      this.#closed = true;
      for (const [id, wake] of this.#waiting)
        wake({ reply: id, ok: false, error: 'the driver exited' });
      this.#waiting.clear();
    });
  }

  send(request: DriverRequest, timeoutMs = 60_000): Promise<DriverAnswer> {
    const id = this.#next++;
    if (this.#closed) return Promise.resolve({ reply: id, ok: false, error: 'the driver exited' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve({ reply: id, ok: false, error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.#waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.#stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  close(): void {
    if (!this.#stdin.writableEnded) this.#stdin.end();
  }
}
