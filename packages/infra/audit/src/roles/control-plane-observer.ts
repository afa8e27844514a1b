/**
 * The auditor's seat on the control plane: connects with the AUDITOR account's credentials
 * and subscribes to every subject that account can see (`splitrelay.>`, i.e. everything that
 * crosses between the operators' accounts). Each message goes to <out>/messages.jsonl as it
 * arrives: subject, size, and the payload as text (or base64 when it is not UTF-8). Connection
 * events (permission errors, reconnects) go to <out>/status.jsonl.
 *
 * Run: node control-plane-observer.ts <config.json>   (prints "observer ready" once subscribed)
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';

export interface ObserverConfig {
  readonly servers: readonly string[];
  readonly user: string;
  readonly password: string;
  readonly out: string;
  /** Subjects to subscribe to; `splitrelay.>` (all the auditor account may read) by default. */
  readonly subjects?: readonly string[];
}

const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ObserverConfig;
mkdirSync(config.out, { recursive: true });
const write = (file: string, value: object): void =>
  appendFileSync(
    join(config.out, file),
    `${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`,
  );
const utf8 = new TextDecoder('utf-8', { fatal: true });

const nc = await connect({
  servers: [...config.servers],
  user: config.user,
  pass: config.password,
  name: 'splitrelay-auditor',
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
});
void (async () => {
  for await (const s of nc.status())
    write('status.jsonl', { type: s.type, ...('error' in s ? { error: String(s.error) } : {}) });
})();
for (const subject of config.subjects ?? ['splitrelay.>']) {
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) {
      let text: string | undefined;
      try {
        text = utf8.decode(m.data);
      } catch {
        text = undefined;
      }
      write('messages.jsonl', {
        subject: m.subject,
        bytes: m.data.length,
        ...(text === undefined ? { base64: Buffer.from(m.data).toString('base64') } : { text }),
      });
    }
  })();
}
await nc.flush();
process.stdout.write(`observer ready ${JSON.stringify(config.subjects ?? ['splitrelay.>'])}\n`);

const stop = (): void => {
  void nc.drain().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
