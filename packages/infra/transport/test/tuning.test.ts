import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, getDefaultHighWaterMark } from 'node:stream';
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
