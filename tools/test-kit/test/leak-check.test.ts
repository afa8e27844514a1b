import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLeaks, targetNeedles } from '../src/leak-check.ts';

test('findLeaks keeps its call shape: first exact occurrence per needle and haystack, with context', () => {
  const needles = targetNeedles({ name: 'target.example', ip: '192.0.2.7', port: 4433 });
  const found = findLeaks(
    {
      capture: Buffer.from('\x00CONNECT target.example:4433 and target.example again'),
      logs: 'peer 192.0.2.7:4433',
    },
    [...needles, 'masque/udp'],
  );
  assert.deepEqual(found, [
    {
      needle: 'target.example',
      where: 'capture',
      context: '.CONNECT target.example:4433 and target.example again',
    },
    {
      needle: 'target.example:4433',
      where: 'capture',
      context: '.CONNECT target.example:4433 and target.example again',
    },
    { needle: '192.0.2.7', where: 'logs', context: 'peer 192.0.2.7:4433' },
    { needle: '192.0.2.7:4433', where: 'logs', context: 'peer 192.0.2.7:4433' },
  ]);
  assert.deepEqual(findLeaks({ clean: 'nothing to see' }, needles), []);
  // Exact text, as before: case matters, other encodings are the evidence package's job.
  assert.deepEqual(findLeaks({ h: 'TARGET.EXAMPLE' }, ['target.example']), []);
});
