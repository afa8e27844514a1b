import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { allowedFields, createLogger } from '../src/index.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

test('the ingress logger has no field that can hold a target', () => {
  const ingressKeys = Object.keys(allowedFields.ingress);
  for (const key of ingressKeys)
    assert.doesNotMatch(key, /target|host|dest|sni|authority|port$/i, key);
});

test('the egress logger has no field that can hold a client address', () => {
  const egressKeys = Object.keys(allowedFields.egress);
  for (const key of egressKeys)
    assert.doesNotMatch(key, /client|forwarded|remote|peerAddr|source/i, key);
});

test('fields a role may not write are dropped at run time and counted', () => {
  const sink = capture();
  const log = createLogger('ingress', { destination: sink.stream });
  const sneaky = { egressId: 'e1', targetHost: 'secret.example' } as unknown as {
    egressId: string;
  };
  log.info('tunnel', sneaky);
  const [line] = sink.lines();
  assert.equal(line?.egressId, 'e1');
  assert.equal(line?.targetHost, undefined);
  assert.equal(log.dropped, 1);
  assert.doesNotMatch(JSON.stringify(sink.lines()), /secret\.example/);
});

test('the egress logger drops a client address even when forced', () => {
  const sink = capture();
  const log = createLogger('egress', { destination: sink.stream });
  log.warn('flow', { targetHost: 't.example', clientAddr: '127.0.1.1' } as never);
  const [line] = sink.lines();
  assert.equal(line?.targetHost, 't.example');
  assert.equal(line?.clientAddr, undefined);
  assert.equal(line?.role, 'egress');
  assert.equal(line?.event, 'flow');
  assert.equal(log.dropped, 1);
});

test('objects cannot ride inside an allowed field', () => {
  const sink = capture();
  const log = createLogger('ingress', { destination: sink.stream });
  log.info('x', { reason: { targetHost: 'leak' } } as never);
  assert.doesNotMatch(JSON.stringify(sink.lines()), /leak/);
  assert.equal(log.dropped, 1);
});

test('the issuer logger has no field that can hold a token, request bytes or an address', () => {
  for (const key of Object.keys(allowedFields.issuer))
    assert.doesNotMatch(
      key,
      /token|request|response|blind|nonce|challenge|client|addr|remote|target|host|egress/i,
      key,
    );
  const sink = capture();
  const log = createLogger('issuer', { destination: sink.stream });
  log.info('refused', {
    code: 'rate-limited',
    subscriber: 'sub-1',
    tokenRequest: 'AAIA',
    clientAddr: '203.0.113.7',
  } as never);
  const [line] = sink.lines();
  assert.equal(line?.subscriber, 'sub-1');
  assert.equal(line?.role, 'issuer');
  assert.doesNotMatch(JSON.stringify(sink.lines()), /AAIA|203\.0\.113\.7/);
  assert.equal(log.dropped, 2);
});
