/**
 * The real issuer app as a child process on 127.0.6.1, with real TLS from @splitrelay/devcerts,
 * and an HTTP/2 (or HTTP/1.1) client that trusts only the test CA.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert } from '@splitrelay/devcerts';
import { startApp } from '@splitrelay/local-deployment';
import { generateIssuerKeyPem, importTokenKey, type TokenKey } from '@splitrelay/privacy-pass';
import { credentialSha256 } from '../src/attester.ts';

export const ISSUER_HOST = '127.0.6.1';
export const ISSUER_NAME = 'issuer.splitrelay.test';

export interface TestKey {
  readonly file: string;
  readonly tokenKey: TokenKey;
}

export interface Fixture {
  readonly dir: string;
  readonly caPem: string;
  readonly cert: string;
  readonly key: string;
  readonly subscribersFile: string;
  /** A fresh token key file; its truncated id differs from every key in `avoid`. */
  newKey(name: string, avoid?: readonly TestKey[]): Promise<TestKey>;
  writeConfig(name: string, config: Record<string, unknown>): Promise<string>;
  cleanup(): Promise<void>;
}

export const CREDENTIALS = { alice: 'alice-credential-1', bob: 'bob-credential-2' } as const;

export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'splitrelay-issuer-'));
  const ca = await createCa('SplitRelay issuer test CA');
  const leaf = await issueCert(ca, {
    commonName: ISSUER_NAME,
    dnsNames: [ISSUER_NAME],
    ipAddresses: [ISSUER_HOST],
    usage: 'server',
  });
  const cert = join(dir, 'issuer.crt');
  const key = join(dir, 'issuer.key');
  await writeFile(cert, leaf.certPem);
  await writeFile(key, leaf.keyPem, { mode: 0o600 });
  const subscribersFile = join(dir, 'subscribers.json');
  await writeFile(
    subscribersFile,
    JSON.stringify(
      Object.entries(CREDENTIALS).map(([subscriber, credential]) => ({
        subscriber,
        credentialSha256: credentialSha256(credential),
      })),
    ),
  );
  return {
    dir,
    caPem: ca.certPem,
    cert,
    key,
    subscribersFile,
    async newKey(name, avoid = []) {
      for (;;) {
        const { privateKeyPem, tokenKey } = generateIssuerKeyPem();
        const imported = importTokenKey(tokenKey);
        if (avoid.some((k) => k.tokenKey.truncatedId === imported.truncatedId)) continue;
        const file = join(dir, `${name}.key`);
        await writeFile(file, privateKeyPem, { mode: 0o600 });
        return { file, tokenKey: imported };
      }
    },
    async writeConfig(name, config) {
      const file = join(dir, `${name}.json`);
      await writeFile(file, JSON.stringify(config, null, 2));
      return file;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A config with the fixture's TLS and attester, listening on a port the OS picks. */
export function baseConfig(
  fixture: Fixture,
  keys: Array<Record<string, unknown>>,
): Record<string, unknown> {
  return {
    listen: `${ISSUER_HOST}:0`,
    tls: { cert: fixture.cert, key: fixture.key },
    issuerName: ISSUER_NAME,
    keys,
    attester: { type: 'file', file: fixture.subscribersFile },
    limits: { tokensPerSubscriberPerHour: 1000, maxRequestBytes: 16_384, maxBatch: 32 },
    log: { level: 'debug', statsIntervalMs: 1000 },
  };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface RunningIssuerProcess {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
  readonly port: number;
  readonly origin: string;
  /** Every stdout/stderr line so far. */
  readonly lines: string[];
  /** Resolves with the first log record with this event (already seen or to come). */
  waitForEvent(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startIssuerProcess(configFile: string): Promise<RunningIssuerProcess> {
  const app = await startApp('issuer', configFile);
  const port = Number(String(app.ready.listen).split(':').pop());
  return {
    child: app.process,
    ready: { ...app.ready },
    port,
    origin: `https://${ISSUER_HOST}:${port}`,
    lines: app.lines,
    waitForEvent: (event, timeoutMs) => app.waitFor(event, timeoutMs),
    stop: () => app.stop(),
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
}

/** One HTTP/2 request on its own session (so tests are independent of each other). */
export async function h2Request(
  issuer: RunningIssuerProcess,
  caPem: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const session = http2.connect(issuer.origin, { ca: caPem, servername: ISSUER_NAME });
  session.on('error', () => {});
  try {
    const stream = session.request({
      ':method': options.method ?? 'GET',
      ':path': path,
      ...options.headers,
    });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => {});
    const response = once(stream, 'response') as Promise<[http2.IncomingHttpHeaders]>;
    const ended = once(stream, 'end').catch(() => {});
    stream.end(options.body);
    const [headers] = await response;
    await ended;
    const body = Buffer.concat(chunks);
    return {
      status: Number(headers[':status']),
      headers,
      body,
      text: body.toString('utf8'),
    };
  } finally {
    session.close();
  }
}

/** The same over HTTP/1.1 (ALPN http/1.1). */
export function h1Request(
  issuer: RunningIssuerProcess,
  caPem: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: ISSUER_HOST,
        port: issuer.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: caPem,
        servername: ISSUER_NAME,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
