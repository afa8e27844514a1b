/**
 * The traffic of an audit run, driven from the client's side: curl through the client app's
 * SOCKS5 and HTTP proxies for HTTPS (pages, a POST, a bulk download, a steady background
 * loop), and SOCKS5 UDP ASSOCIATE for the UDP echo and DNS through the relays. It runs where
 * the client runs (the client namespace) and takes one JSON command per stdin line, answering
 * each with one JSON line on stdout: `{"reply": <id>, "ok": …, …}`. Every answer is also
 * appended to <out>/driver.jsonl, the client's own record of what it did.
 *
 * Run: node traffic-driver.ts <config.json>   (prints "driver ready")
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeUdpHeader, encodeUdpHeader } from '@splitrelay/socks5';
import { socksRequest } from '@splitrelay/test-kit/socks-client';
import { decodeAnswer, encodeQuery, DNS_CLASS_IN, DNS_TYPE_A } from '../dns-wire.ts';

interface DriverConfig {
  /** The client app's proxies, as its ready line names them. */
  readonly socksPort: number;
  readonly httpPort: number;
  /** CA that signed the canary target's certificate. */
  readonly caCert: string;
  readonly headerName: string;
  readonly out: string;
}

export type DriverCommand =
  | {
      readonly id: number;
      readonly op: 'https';
      readonly via: 'socks' | 'http';
      readonly url: string;
      readonly method?: 'GET' | 'POST';
      readonly header?: string;
      readonly body?: string;
      /** Keep the body in the answer (pages) or only count it (bulk). */
      readonly keepBody?: boolean;
    }
  | {
      readonly id: number;
      readonly op: 'udp';
      readonly host: string;
      readonly port: number;
      readonly payload: string;
    }
  | {
      readonly id: number;
      readonly op: 'dns';
      readonly host: string;
      readonly port: number;
      readonly name: string;
    }
  | {
      readonly id: number;
      readonly op: 'loop-start';
      readonly url: string;
      readonly intervalMs: number;
    }
  | { readonly id: number; readonly op: 'loop-stop' }
  | {
      readonly id: number;
      readonly op: 'await-peer';
      readonly url: string;
      /** The address the target must report as the peer (the egress that served). */
      readonly address: string;
      readonly timeoutMs: number;
    };

const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as DriverConfig;
mkdirSync(config.out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'splitrelay-driver-'));
const CURL_TIMEOUT_S = 20;

interface HttpsResult {
  readonly ok: boolean;
  readonly status: number;
  readonly bytes: number;
  readonly seenPeer?: string;
  readonly body?: string;
  readonly error?: string;
  readonly ms: number;
}

let fileNo = 0;
function curl(cmd: Extract<DriverCommand, { op: 'https' }>): Promise<HttpsResult> {
  const started = Date.now();
  const bodyFile = join(scratch, `body-${++fileNo}`);
  const args = [
    '--silent',
    '--show-error',
    '--max-time',
    String(CURL_TIMEOUT_S),
    '--cacert',
    config.caCert,
    '--proxy',
    cmd.via === 'socks'
      ? `socks5h://127.0.0.1:${config.socksPort}`
      : `http://127.0.0.1:${config.httpPort}`,
    '--dump-header',
    '-',
    '--output',
    bodyFile,
    '--write-out',
    '\n%{http_code} %{size_download}\n',
    ...(cmd.header ? ['--header', `${config.headerName}: ${cmd.header}`] : []),
    ...(cmd.method === 'POST' ? ['--request', 'POST', '--data-binary', cmd.body ?? ''] : []),
    cmd.url,
  ];
  return new Promise((resolve) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
    child.once('error', (e) =>
      resolve({ ok: false, status: 0, bytes: 0, error: e.message, ms: Date.now() - started }),
    );
    child.once('close', (code) => {
      const tail = /\n(\d{3}) (\d+)\n$/.exec(out);
      const status = tail ? Number(tail[1]) : 0;
      const seen = /^x-seen-peer: *(\S+)/im.exec(out)?.[1];
      let body: string | undefined;
      if (cmd.keepBody) {
        try {
          body = readFileSync(bodyFile, 'latin1').slice(0, 4096);
        } catch {
          body = undefined;
        }
      }
      rmSync(bodyFile, { force: true });
      resolve({
        ok: code === 0 && status === 200,
        status,
        bytes: tail ? Number(tail[2]) : 0,
        ...(seen ? { seenPeer: seen } : {}),
        ...(body === undefined ? {} : { body }),
        ...(code === 0 ? {} : { error: err.trim().slice(0, 300) || `curl exited ${code}` }),
        ms: Date.now() - started,
      });
    });
  });
}

/** One datagram through SOCKS5 UDP ASSOCIATE (RFC 1928 §7), and the first answer. */
async function udpExchange(
  host: string,
  port: number,
  payload: Uint8Array,
  timeoutMs = 5000,
): Promise<Uint8Array> {
  const association = await socksRequest(
    { host: '127.0.0.1', port: config.socksPort },
    'udp-associate',
    { host: '0.0.0.0', port: 0 },
  );
  const udp = dgram.createSocket('udp4');
  try {
    if (association.reply !== 0)
      throw new Error(`SOCKS5 UDP ASSOCIATE refused (${association.reply})`);
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const answer = new Promise<Buffer>((resolve) => udp.once('message', resolve));
    udp.send(
      encodeUdpHeader({ host, port }, payload),
      association.bound.port,
      association.bound.host,
    );
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      answer,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('no UDP answer')), timeoutMs)),
      ),
    ]).finally(() => clearTimeout(timer));
    const decoded = decodeUdpHeader(reply);
    if (!decoded.ok) throw new Error('malformed SOCKS5 UDP reply');
    return decoded.value.data;
  } finally {
    udp.close();
    association.socket.destroy();
  }
}

let loop:
  | {
      running: boolean;
      done: Promise<void>;
      ok: number;
      failed: number;
      peers: Record<string, number>;
      errors: string[];
    }
  | undefined;

async function handle(cmd: DriverCommand): Promise<object> {
  switch (cmd.op) {
    case 'https':
      return curl(cmd);
    case 'udp': {
      try {
        const echoed = Buffer.from(
          await udpExchange(cmd.host, cmd.port, Buffer.from(cmd.payload, 'latin1')),
        ).toString('latin1');
        return { ok: echoed === cmd.payload, echoed };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    }
    case 'dns': {
      try {
        const id = 1 + Math.floor(Math.random() * 65000);
        const reply = await udpExchange(
          cmd.host,
          cmd.port,
          encodeQuery({ id, name: cmd.name, type: DNS_TYPE_A, class: DNS_CLASS_IN }),
        );
        const answer = decodeAnswer(reply).value;
        return {
          ok: answer.id === id && answer.rcode === 0 && answer.addresses.length > 0,
          rcode: answer.rcode,
          addresses: answer.addresses.map((a) => [...a].join('.')),
        };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    }
    case 'loop-start': {
      if (loop?.running) return { ok: false, error: 'a loop is running' };
      const state = {
        running: true,
        done: Promise.resolve(),
        ok: 0,
        failed: 0,
        peers: {} as Record<string, number>,
        errors: [] as string[],
      };
      state.done = (async () => {
        while (state.running) {
          const r = await curl({ id: 0, op: 'https', via: 'socks', url: cmd.url });
          if (r.ok) {
            state.ok++;
            const peer = r.seenPeer ?? '?';
            state.peers[peer] = (state.peers[peer] ?? 0) + 1;
          } else {
            state.failed++;
            if (state.errors.length < 20) state.errors.push(r.error ?? `HTTP ${r.status}`);
          }
          await new Promise((res) => setTimeout(res, cmd.intervalMs));
        }
      })();
      loop = state;
      return { ok: true };
    }
    case 'loop-stop': {
      if (!loop) return { ok: false, error: 'no loop' };
      loop.running = false;
      await loop.done;
      const { ok, failed, peers, errors } = loop;
      loop = undefined;
      return { ok: ok > 0, succeeded: ok, failed, peers, errors };
    }
    case 'await-peer': {
      const deadline = Date.now() + cmd.timeoutMs;
      let tries = 0;
      const errors: string[] = [];
      while (Date.now() < deadline) {
        tries++;
        const r = await curl({ id: 0, op: 'https', via: 'socks', url: cmd.url });
        const address = r.seenPeer?.replace(/^\[|\]?:\d+$/g, '');
        if (r.ok && address === cmd.address)
          return { ok: true, tries, seenPeer: r.seenPeer, errors };
        if (!r.ok && errors.length < 20) errors.push(r.error ?? `HTTP ${r.status}`);
        await new Promise((res) => setTimeout(res, 300));
      }
      return { ok: false, tries, errors };
    }
  }
}

process.stdout.write('driver ready\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let cmd: DriverCommand;
  try {
    cmd = JSON.parse(line) as DriverCommand;
  } catch {
    return;
  }
  void handle(cmd).then((result) => {
    const answer = { reply: cmd.id, op: cmd.op, ...result };
    appendFileSync(
      join(config.out, 'driver.jsonl'),
      `${JSON.stringify({ at: new Date().toISOString(), ...answer })}\n`,
    );
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
lines.once('close', () => {
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
});
process.once('SIGTERM', () => {
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
});
