/**
 * One context per inner session: made once, from the head of the session's first request,
 * and handed to every flow of that session (TCP and UDP), so what the egress decides for a
 * session (its drawn source address) holds for all of its flows. The client's session
 * headers (the geo hint) reach that head. Real TLS and h2 over a loopback carrier.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { selfSigned } from '@splitrelay/devcerts';
import { spkiPin } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  createInnerSessionServer,
  openInnerSession,
  type InnerSession,
  type RequestHead,
} from '../src/index.ts';

interface Context {
  readonly n: number;
  readonly hint: string | undefined;
}

let carrierServer: net.Server;
let echo: net.Server;
let echoPort: number;
let pins: string[];
const opened: RequestHead[] = [];
const flows: { target: string; context: Context }[] = [];
let inner: ReturnType<typeof createInnerSessionServer<Context>>;

before(async () => {
  const identity = await selfSigned({ commonName: 'egress-1', usage: 'server' });
  pins = [spkiPin(identity.certPem)];
  inner = createInnerSessionServer<Context>({
    cert: identity.certPem,
    key: identity.keyPem,
    handshakeTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    maxHeaderBytes: 8192,
    proxyName: 'test-egress',
    openSession(head) {
      opened.push(head);
      const hint = head['sec-ch-ip-geo'];
      if (hint === '"XX"') throw new RelayError('malformed-request', 'refused context');
      return { n: opened.length, hint: typeof hint === 'string' ? hint : undefined };
    },
    async openFlow(target, _signal, context) {
      flows.push({ target: `${target.host}:${target.port}`, context });
      const socket = net.connect({ host: '127.0.0.1', port: echoPort });
      await once(socket, 'connect');
      return socket;
    },
  });
  carrierServer = net.createServer((socket) => inner.accept(socket));
  carrierServer.listen(0, '127.0.0.1');
  await once(carrierServer, 'listening');
  echo = net.createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as net.AddressInfo).port;
});

after(async () => {
  inner.close();
  carrierServer.close();
  echo.close();
  await Promise.all([once(carrierServer, 'close'), once(echo, 'close')]);
});

async function session(headers?: Record<string, string>): Promise<InnerSession> {
  const carrier = net.connect({
    host: '127.0.0.1',
    port: (carrierServer.address() as net.AddressInfo).port,
  });
  await once(carrier, 'connect');
  try {
    return await openInnerSession(carrier, {
      egressId: 'egress-1',
      pins,
      handshakeTimeoutMs: 5000,
      flowTimeoutMs: 5000,
      ...(headers ? { sessionHeaders: headers } : {}),
    });
  } catch (err) {
    carrier.destroy();
    throw err;
  }
}

async function roundTrip(s: InnerSession, port: number): Promise<void> {
  const flow = await s.openFlow({ host: 'target.example', port });
  flow.end('ping');
  const chunks: Buffer[] = [];
  for await (const c of flow) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'ping');
}

test('every flow of a session gets the context made from its first request', async () => {
  opened.length = 0;
  flows.length = 0;
  const a = await session({ 'sec-ch-ip-geo': '"DE"' });
  await roundTrip(a, 1);
  await Promise.all([roundTrip(a, 2), roundTrip(a, 3), roundTrip(a, 4)]);
  const b = await session();
  await roundTrip(b, 5);
  await roundTrip(a, 6);
  a.close();
  b.close();
  assert.equal(opened.length, 2, 'one context per session');
  assert.equal(opened[0]?.['sec-ch-ip-geo'], '"DE"');
  assert.equal(opened[0]?.[':authority'], 'target.example:1');
  assert.equal(opened[1]?.['sec-ch-ip-geo'], undefined);
  const byPort = new Map(flows.map((f) => [f.target.split(':')[1], f.context]));
  for (const port of ['1', '2', '3', '4', '6'])
    assert.deepEqual(byPort.get(port), { n: 1, hint: '"DE"' });
  assert.deepEqual(byPort.get('5'), { n: 2, hint: undefined });
  // The same object, not an equal one: nothing is re-derived per flow.
  assert.equal(byPort.get('1'), byPort.get('6'));
});

test('a context that cannot be made refuses the request with its reason', async () => {
  const s = await session({ 'sec-ch-ip-geo': '"XX"' });
  await assert.rejects(s.openFlow({ host: 'target.example', port: 7 }), (err: unknown) => {
    assert.ok(err instanceof RelayError);
    assert.equal(err.code, 'malformed-request');
    return true;
  });
  s.close();
});

test('session headers are checked on the client: no pseudo-headers, no owned fields, one line', async () => {
  const bads: Record<string, string>[] = [
    { ':authority': 'x' },
    { host: 'x' },
    { 'x-a': 'a\r\nb: c' },
    { 'X-Up': 'a' },
  ];
  for (const bad of bads) {
    await assert.rejects(session(bad), TypeError);
  }
});
