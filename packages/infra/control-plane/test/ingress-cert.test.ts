import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { sign } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DirectoryError,
  SIGNATURE_CONTEXT,
  signEntry,
  spkiPin,
  verifyEntry,
  type DirectoryErrorCode,
} from '@splitrelay/directory';
import {
  INGRESS_CERT_CONTEXT,
  IngressCertStore,
  ingressCertPin,
  signIngressCert,
  verifyIngressCert,
} from '../src/index.ts';
import { CERT_A, CERT_B, NOW, certFor, entryFor, operator } from './fixtures.ts';

const op = operator();

/** Signs raw bytes with a chosen context, apart from the package, to forge edge cases. */
function rawSign(payload: string, context: Uint8Array, kid = op.kid) {
  const bytes = Buffer.from(payload, 'utf8');
  const sig = sign(null, Buffer.concat([context, bytes]), op.privateKey);
  return { payload: bytes.toString('base64url'), sig: sig.toString('base64url'), kid };
}

function code(fn: () => unknown): DirectoryErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DirectoryError) return err.code;
    throw err;
  }
  return undefined;
}

test('a signed ingress cert verifies to the frozen announcement', () => {
  const signed = signIngressCert(certFor(), op.privateKey, op.kid);
  const cert = verifyIngressCert(JSON.parse(JSON.stringify(signed)), op.trusted, NOW);
  assert.deepEqual(cert, certFor());
  assert.ok(Object.isFrozen(cert));
  assert.equal(ingressCertPin(cert), spkiPin(CERT_A));
  assert.equal(
    Buffer.from(INGRESS_CERT_CONTEXT).toString('latin1'),
    'splitrelay-ingress-cert-v1\0',
  );
});

test('the context separates ingress certs from directory entries, both ways', () => {
  const cert = JSON.stringify(certFor());
  assert.equal(
    code(() => verifyIngressCert(rawSign(cert, SIGNATURE_CONTEXT), op.trusted, NOW)),
    'bad-signature',
  );
  assert.equal(
    code(() => verifyIngressCert(rawSign(cert, INGRESS_CERT_CONTEXT), op.trusted, NOW)),
    undefined,
  );
  const entry = JSON.stringify(entryFor(op.kid));
  assert.equal(
    code(() => verifyEntry(rawSign(entry, INGRESS_CERT_CONTEXT), op.trusted, NOW)),
    'bad-signature',
  );
  const directorySigned = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  assert.equal(
    code(() => verifyIngressCert(directorySigned, op.trusted, NOW)),
    'bad-signature',
  );
});

test('tampered, unknown-key, expired, early and malformed announcements are refused', () => {
  const signed = signIngressCert(certFor(), op.privateKey, op.kid);
  const tampered = Buffer.from(signed.payload, 'base64url');
  tampered[tampered.indexOf('"version":1') + 10] = '2'.charCodeAt(0);
  const stranger = operator();
  const cases: Array<[DirectoryErrorCode, unknown, number]> = [
    ['bad-signature', { ...signed, payload: tampered.toString('base64url') }, NOW],
    [
      'bad-signature',
      { ...signed, sig: signed.sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) },
      NOW,
    ],
    ['unknown-key', signIngressCert(certFor(), stranger.privateKey, stranger.kid), NOW],
    ['expired', signed, NOW + 3600],
    ['not-yet-valid', signed, NOW - 3601],
    ['malformed', { ...signed, extra: 1 }, NOW],
    ['malformed', { ...signed, payload: `${signed.payload}=` }, NOW],
    ['malformed', rawSign('not json', INGRESS_CERT_CONTEXT), NOW],
    [
      'malformed',
      rawSign(JSON.stringify({ ...certFor(), client: '203.0.113.7' }), INGRESS_CERT_CONTEXT),
      NOW,
    ],
    [
      'malformed',
      rawSign(JSON.stringify(certFor({ certPem: 'hello' })), INGRESS_CERT_CONTEXT),
      NOW,
    ],
  ];
  for (const [want, input, now] of cases)
    assert.equal(
      code(() => verifyIngressCert(input, op.trusted, now)),
      want,
    );
  assert.throws(() => verifyIngressCert(signed, op.trusted, Number.NaN), TypeError);
  assert.throws(() => verifyIngressCert(signed, { [op.kid]: 'junk' }, NOW), TypeError);
});

test('signing refuses what verifying would refuse', () => {
  assert.equal(
    code(() => signIngressCert(certFor({ id: 'Not A Label' }), op.privateKey, op.kid)),
    'malformed',
  );
  assert.equal(
    code(() => signIngressCert({ ...certFor(), host: 'x' } as never, op.privateKey, op.kid)),
    'malformed',
  );
  assert.throws(() => signIngressCert(certFor(), op.publicKeyPem as never, op.kid), TypeError);
});

test('random bytes under a valid signature only ever fail as malformed', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 100 }), (text) => {
      const got = code(() =>
        verifyIngressCert(rawSign(text, INGRESS_CERT_CONTEXT), op.trusted, NOW),
      );
      assert.equal(got, 'malformed');
    }),
    { numRuns: 100 },
  );
});

test('IngressCertStore keeps the highest version per ingress and gives the pins to admit', () => {
  const store = new IngressCertStore();
  const a1 = signIngressCert(certFor({ version: 1 }), op.privateKey, op.kid);
  const a2 = signIngressCert(certFor({ version: 2, certPem: CERT_B }), op.privateKey, op.kid);
  const b1 = signIngressCert(
    certFor({ id: 'ingress-b', notAfter: NOW + 60 }),
    op.privateKey,
    op.kid,
  );
  assert.equal(store.apply(a1, op.trusted, NOW, 'ingress-ams-1').accepted, true);
  assert.equal(store.apply(b1, op.trusted, NOW).accepted, true);
  assert.deepEqual(store.pins(NOW), new Set([spkiPin(CERT_A)]));
  assert.equal(store.apply(a2, op.trusted, NOW).accepted, true);
  const stale = store.apply(a1, op.trusted, NOW);
  assert.equal(!stale.accepted && stale.reason, 'stale-version');
  assert.deepEqual(store.pins(NOW), new Set([spkiPin(CERT_B), spkiPin(CERT_A)]));
  assert.deepEqual([...store.certs(NOW).keys()], ['ingress-ams-1', 'ingress-b']);
  assert.deepEqual(store.signedCerts(NOW), [a2, b1]);
  assert.equal(store.validUntil(NOW), NOW + 60);
  assert.deepEqual(store.pins(NOW + 60), new Set([spkiPin(CERT_B)]));
  assert.equal(store.versionOf('ingress-ams-1'), 2);
  const mismatch = store.apply(a2, op.trusted, NOW, 'ingress-b');
  assert.equal(!mismatch.accepted && mismatch.reason, 'id-mismatch');
});
