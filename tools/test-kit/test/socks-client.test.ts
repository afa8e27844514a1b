/**
 * The SOCKS5 client against a scripted server built on the same codec: answers in one piece,
 * byte by byte, with the target's first bytes right behind the reply, refusals, a method it
 * cannot use, a proxy that hangs up or says nothing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import {
  decodeGreeting,
  decodeRequest,
  encodeMethodSelection,
  encodeReply,
  type DecodeResult,
} from '@splitrelay/socks5';
import { socksConnect, socksRequest, SocksClientError } from '../src/socks-client.ts';
import { activeResources, assertNoLeakedHandles } from '../src/handles.ts';

const baseline = activeResources();

interface Script {
  readonly method?: number;
  readonly reply?: number;
  readonly bound?: { host: string; port: number };
  /** Bytes sent right after the reply, in the same write. */
  readonly early?: string;
  /** Writes the server's answers one byte at a time. */
  readonly byteByByte?: boolean;
  /** What the server does instead of replying to the request. */
  readonly instead?: 'close' | 'nothing' | 'garbage';
}

/** A SOCKS5 server that reads like a real one and answers as scripted; records requests. */
async function scriptedProxy(script: Script) {
  const requests: { command: string; host: string; port: number }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let phase: 'greeting' | 'request' | 'done' = 'greeting';
    const send = async (bytes: Uint8Array): Promise<void> => {
      if (!script.byteByByte) return void socket.write(bytes);
      for (const b of bytes) {
        socket.write(Uint8Array.of(b));
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const take = <T>(r: DecodeResult<T>): T | undefined => {
      if (!r.ok) return undefined;
      buf = buf.subarray(r.bytesRead);
      return r.value;
    };
    socket.on('data', async (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (phase === 'greeting') {
        const greeting = take(decodeGreeting(buf));
        if (!greeting) return;
        assert.deepEqual(greeting.methods, [0x00]);
        phase = 'request';
        await send(encodeMethodSelection(script.method ?? 0x00));
      }
      if (phase === 'request') {
        const request = take(decodeRequest(buf));
        if (!request) return;
        phase = 'done';
        requests.push({ command: request.command, host: request.host, port: request.port });
        if (script.instead === 'close') return void socket.destroy();
        if (script.instead === 'nothing') return;
        if (script.instead === 'garbage') return void socket.write(Uint8Array.of(4, 0, 0, 1));
        const reply = encodeReply(script.reply ?? 0x00, script.bound);
        await send(script.early ? Buffer.concat([reply, Buffer.from(script.early)]) : reply);
        if ((script.reply ?? 0) === 0) socket.pipe(socket);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    proxy: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const proxies: { close(): Promise<void> }[] = [];
async function proxy(script: Script) {
  const p = await scriptedProxy(script);
  proxies.push(p);
  return p;
}

after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await assertNoLeakedHandles({ baseline, graceMs: 1000 });
});

for (const byteByByte of [false, true]) {
  test(
    `CONNECT succeeds and the target's first bytes are kept (answers ${byteByByte ? 'byte by byte' : 'whole'})`,
    { timeout: 10_000 },
    async () => {
      const p = await proxy({ byteByByte, early: 'HELLO' });
      const socket = await socksConnect(p.proxy, { host: 'target.splitrelay.test', port: 443 });
      assert.deepEqual(p.requests, [
        { command: 'connect', host: 'target.splitrelay.test', port: 443 },
      ]);
      assert.equal(socket.isPaused(), true, 'paused until the caller reads');
      const got: Buffer[] = [];
      socket.on('data', (d: Buffer) => got.push(d));
      socket.resume();
      socket.write('ping');
      const want = 'HELLOping';
      while (Buffer.concat(got).length < want.length) await once(socket, 'data');
      assert.equal(Buffer.concat(got).toString(), want);
      socket.destroy();
    },
  );
}

test('UDP ASSOCIATE resolves the bound address; a refusal is an answer, not an error', async () => {
  const p = await proxy({ bound: { host: '127.0.0.1', port: 40_000 } });
  const answer = await socksRequest(p.proxy, 'udp-associate', { host: '0.0.0.0', port: 0 });
  assert.equal(answer.reply, 0);
  assert.deepEqual(answer.bound, { host: '127.0.0.1', port: 40_000 });
  answer.socket.destroy();
  const refusing = await proxy({ reply: 0x02 });
  const refused = await socksRequest(refusing.proxy, 'connect', { host: '127.0.4.1', port: 1 });
  assert.equal(refused.reply, 0x02);
  refused.socket.destroy();
});

test('socksConnect turns a refusal into SocksClientError refused, with the reply', async () => {
  const p = await proxy({ reply: 0x04 });
  await assert.rejects(
    socksConnect(p.proxy, { host: 'nx.splitrelay.test', port: 443 }),
    (err: unknown) => {
      assert.ok(err instanceof SocksClientError);
      assert.equal(err.failure, 'refused');
      assert.equal(err.reply, 0x04);
      assert.match(err.message, /SOCKS reply 4 for nx\.splitrelay\.test:443/);
      return true;
    },
  );
});

test('a method other than no-auth, a hang-up, garbage and silence all fail typed', async () => {
  const failure = async (script: Script, options = {}): Promise<string> => {
    const p = await proxy(script);
    const err = await socksRequest(
      p.proxy,
      'connect',
      { host: '127.0.4.1', port: 1 },
      options,
    ).then(
      () => assert.fail('the handshake succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SocksClientError, String(err));
    return err.failure;
  };
  assert.equal(await failure({ method: 0xff }), 'no-acceptable-method');
  assert.equal(await failure({ instead: 'close' }), 'closed');
  assert.equal(await failure({ instead: 'garbage' }), 'closed');
  assert.equal(await failure({ instead: 'nothing' }, { timeoutMs: 200 }), 'timeout');
  // Nobody listening at all.
  const gone = await proxy({});
  await gone.close();
  await assert.rejects(
    socksRequest(gone.proxy, 'connect', { host: '127.0.4.1', port: 1 }),
    (err: unknown) => err instanceof SocksClientError && err.failure === 'closed',
  );
});
