import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PassThrough, getDefaultHighWaterMark } from 'node:stream';
import tls from 'node:tls';
import { selfSigned } from '@splitrelay/devcerts';
import {
  HIGH_WATER_MARK_BYTES,
  h2Settings,
  H2_WINDOW_BYTES,
  tlsDefaults,
  tuneProcess,
} from '../src/index.ts';

test('tuneProcess raises the default stream buffer for streams created afterwards', () => {
  tuneProcess();
  assert.equal(getDefaultHighWaterMark(false), HIGH_WATER_MARK_BYTES);
  assert.equal(new PassThrough().readableHighWaterMark, HIGH_WATER_MARK_BYTES);
});

test('h2 settings carry the bounded window and TLS is 1.3 with AES-128-GCM first', () => {
  assert.equal(h2Settings().initialWindowSize, H2_WINDOW_BYTES);
  assert.ok(H2_WINDOW_BYTES < 2 ** 31 - 1);
  assert.equal(tlsDefaults.minVersion, 'TLSv1.3');
  assert.match(tlsDefaults.ciphers, /^TLS_AES_128_GCM_SHA256/);
});

test('every hop prefers the post-quantum hybrid key exchange, and a peer without it still connects', async () => {
  assert.match(tlsDefaults.ecdhCurve, /^X25519MLKEM768:/);
  const { certPem, keyPem } = await selfSigned({
    commonName: 'hop',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const server = tls.createServer({ ...tlsDefaults, cert: certPem, key: keyPem }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const groupWith = (options: tls.ConnectionOptions): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port, rejectUnauthorized: false, ...options },
        () => {
          const info = socket.getEphemeralKeyInfo() as { name?: string };
          socket.destroy();
          resolve(info.name);
        },
      );
      socket.once('error', reject);
    });
  try {
    assert.equal(await groupWith({ ...tlsDefaults }), 'X25519MLKEM768');
    assert.equal(await groupWith({ ecdhCurve: 'X25519' }), 'X25519');
  } finally {
    server.close();
  }
});
