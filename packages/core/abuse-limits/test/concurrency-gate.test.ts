import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConcurrencyGate } from '../src/index.ts';

test('holders per key are capped; other keys are not affected', () => {
  const gate = new ConcurrencyGate({ limit: 2 });
  const a1 = gate.tryAcquire('a');
  const a2 = gate.tryAcquire('a');
  assert.ok(a1 && a2);
  assert.equal(gate.tryAcquire('a'), undefined);
  assert.ok(gate.tryAcquire('b'));
  assert.equal(gate.active('a'), 2);
  assert.equal(gate.total, 3);
  a1();
  assert.equal(gate.active('a'), 1);
  assert.ok(gate.tryAcquire('a'), 'a released slot is free again');
});

test('release is idempotent: a second call frees nobody else', () => {
  const gate = new ConcurrencyGate({ limit: 2 });
  const first = gate.tryAcquire('a');
  const second = gate.tryAcquire('a');
  assert.ok(first && second);
  first();
  first();
  first();
  assert.equal(gate.active('a'), 1);
  assert.equal(gate.total, 1);
  assert.ok(gate.tryAcquire('a'));
  assert.equal(gate.tryAcquire('a'), undefined, 'still capped at 2');
});

test('a key whose last holder left is forgotten', () => {
  const gate = new ConcurrencyGate({ limit: 1 });
  const release = gate.tryAcquire('a');
  release?.();
  assert.equal(gate.active('a'), 0);
  assert.equal(gate.total, 0);
});

test('limit 0 refuses everything; Infinity caps nothing; others are refused', () => {
  assert.equal(new ConcurrencyGate({ limit: 0 }).tryAcquire('a'), undefined);
  const open = new ConcurrencyGate({ limit: Infinity });
  for (let i = 0; i < 1000; i++) assert.ok(open.tryAcquire('a'));
  for (const limit of [-1, 1.5, NaN]) {
    assert.throws(() => new ConcurrencyGate({ limit }), RangeError);
  }
});

test('property: the gate agrees with a counting model under any acquire/release order', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4 }),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('acquire' as const), key: fc.constantFrom('a', 'b', 'c') }),
          // Releases pick one of the handles handed out so far (possibly a released one).
          fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
        ),
        { maxLength: 200 },
      ),
      (limit, ops) => {
        const gate = new ConcurrencyGate({ limit });
        const handles: { key: string; release: () => void; live: boolean }[] = [];
        const model = new Map<string, number>();
        for (const op of ops) {
          if (op.op === 'acquire') {
            const release = gate.tryAcquire(op.key);
            const held = model.get(op.key) ?? 0;
            assert.equal(release !== undefined, held < limit);
            if (release) {
              handles.push({ key: op.key, release, live: true });
              model.set(op.key, held + 1);
            }
          } else if (handles.length > 0) {
            const h = handles[op.pick % handles.length] as (typeof handles)[number];
            h.release();
            if (h.live) model.set(h.key, (model.get(h.key) ?? 0) - 1);
            h.live = false;
          }
          let total = 0;
          for (const [key, n] of model) {
            assert.equal(gate.active(key), n);
            assert.ok(n <= limit);
            total += n;
          }
          assert.equal(gate.total, total);
        }
      },
    ),
  );
});
