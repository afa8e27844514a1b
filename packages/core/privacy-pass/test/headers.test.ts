/**
 * PrivateToken challenge and credentials headers (RFC 9577 §2.1, §2.2) over the RFC 9110
 * §11 auth-param grammar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_TOKEN_HEADER_LENGTH,
  base64url,
  base64urlPadded,
  formatChallengeHeader,
  formatTokenHeader,
  parseAuthHeader,
  parseChallengeHeader,
  parseTokenHeader,
  type ChallengeParams,
} from '../src/index.ts';
import { onlyPrivacyPassErrors, throwsReason } from './helpers.ts';

const bytesArb = fc.uint8Array({ minLength: 1, maxLength: 80 });
const paramsArb: fc.Arbitrary<ChallengeParams> = fc
  .record({
    challenge: bytesArb,
    tokenKey: bytesArb,
    maxAge: fc.option(fc.nat({ max: 2 ** 31 - 1 }), { nil: undefined }),
  })
  .map((p) =>
    p.maxAge === undefined ? { challenge: p.challenge, tokenKey: p.tokenKey } : { ...p },
  );

const challenge = new Uint8Array([0, 2, 0, 1, 0x61, 0, 0, 0]);
const tokenKey = new Uint8Array([1, 2, 3, 250, 251, 252]);
const c64 = base64url(challenge);
const k64 = base64url(tokenKey);

test('formatChallengeHeader writes the RFC 9577 shape, unpadded', () => {
  assert.equal(
    formatChallengeHeader({ challenge, tokenKey, maxAge: 30 }),
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age=30`,
  );
  assert.equal(
    formatChallengeHeader({ challenge, tokenKey }),
    `PrivateToken challenge="${c64}", token-key="${k64}"`,
  );
  throwsReason(() => formatChallengeHeader({ challenge, tokenKey, maxAge: -1 }), 'malformed');
  throwsReason(() => formatChallengeHeader({ challenge, tokenKey, maxAge: 1.5 }), 'malformed');
});

test('challenge header: format/parse round trip, also several in one header', () => {
  fc.assert(
    fc.property(fc.array(paramsArb, { minLength: 1, maxLength: 4 }), (list) => {
      const joined = list.map(formatChallengeHeader).join(', ');
      assert.deepEqual(parseChallengeHeader(joined), list);
    }),
  );
});

test('challenge header: spacing, case, padding and quoting variants all read the same', () => {
  const expected = [{ challenge, tokenKey, maxAge: 10 }];
  const cp = base64urlPadded(challenge);
  const kp = base64urlPadded(tokenKey);
  for (const header of [
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age=10`,
    `privatetoken CHALLENGE="${c64}",TOKEN-KEY="${k64}",Max-Age="10"`,
    `PRIVATETOKEN   challenge = "${cp}" ,\ttoken-key\t=\t"${kp}" , max-age = 10  `,
    `  PrivateToken challenge=${c64}, token-key=${k64}, max-age=10`,
    `PrivateToken challenge=${cp}, token-key=${kp}, max-age=10`,
    `PrivateToken max-age=10, token-key="${k64}", challenge="${c64}"`,
    `PrivateToken challenge="${c64}", , token-key="${k64}",, max-age=10,`,
    `PrivateToken challenge="${c64.slice(0, 3)}\\${c64.slice(3)}", token-key="${k64}", max-age=10`,
    `PrivateToken challenge="${c64}", token-key="${k64}", unknown="ignore, me", other=x, max-age=10`,
  ]) {
    assert.deepEqual(parseChallengeHeader(header), expected, header);
  }
});

test('challenge header: other schemes are skipped, PrivateToken ones kept in order', () => {
  const a = { challenge, tokenKey };
  const b = { challenge: new Uint8Array([9]), tokenKey: new Uint8Array([8]), maxAge: 5 };
  const header =
    `Basic realm="proxy, with comma", charset="UTF-8", ` +
    `${formatChallengeHeader(a)}, Negotiate, Bearer abc.def/ghi==, ` +
    `Digest realm=x, nonce="y\\"z", ${formatChallengeHeader(b)}, Newauth`;
  assert.deepEqual(parseChallengeHeader(header), [a, b]);
  assert.deepEqual(parseChallengeHeader('Basic realm="x"'), []);
  assert.deepEqual(parseChallengeHeader(''), []);
  assert.deepEqual(
    parseAuthHeader(header).map((c) => c.scheme),
    ['basic', 'privatetoken', 'negotiate', 'bearer', 'digest', 'privatetoken', 'newauth'],
  );
  assert.equal(parseAuthHeader(header)[3]?.token68, 'abc.def/ghi==');
});

test('challenge header: malformed PrivateToken challenges', () => {
  for (const header of [
    `PrivateToken challenge="${c64}"`, // no token-key
    `PrivateToken token-key="${k64}"`, // no challenge
    `PrivateToken`,
    `PrivateToken challenge="${c64}", token-key="${k64}", challenge="${c64}"`, // duplicate
    `PrivateToken challenge="${c64}", Token-Key="${k64}", token-key="${k64}"`, // duplicate, any case
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age=1, max-age=1`,
    `PrivateToken challenge="${c64}, token-key="${k64}"`, // quote closes in the wrong place
    `PrivateToken challenge="${c64}", token-key="${k64}`, // unterminated
    `PrivateToken challenge="${c64}+", token-key="${k64}"`, // not base64url
    `PrivateToken challenge="a", token-key="${k64}"`, // impossible length
    `PrivateToken challenge="", token-key="${k64}"`, // empty
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age=-1`,
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age="1.5"`,
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age=99999999999`,
    `PrivateToken challenge="${c64}", token-key="${k64}", max-age=`,
    `PrivateToken YWJj==`, // token68
    `PrivateToken challenge="${c64}" token-key="${k64}"`, // missing comma
    `PrivateToken challenge="${c64}", token-key="${k64}", x="\u0001"`, // control char
    `PrivateToken challenge="${c64}", token-key="${k64}", x="\u0100"`, // not a byte
    `PrivateToken\tchallenge="${c64}", token-key="${k64}"`, // RFC 9110: SP after the scheme
    `Basic realm="unterminated, ${formatChallengeHeader({ challenge, tokenKey })}`,
    `=x, ${formatChallengeHeader({ challenge, tokenKey })}`,
  ]) {
    throwsReason(() => parseChallengeHeader(header), 'malformed');
  }
});

test('challenge header: the length bound comes first', () => {
  const header = formatChallengeHeader({ challenge, tokenKey });
  throwsReason(() => parseChallengeHeader(header, header.length - 1), 'too-large');
  assert.equal(parseChallengeHeader(header, header.length).length, 1);
  throwsReason(() => parseChallengeHeader('x'.repeat(20000)), 'too-large');
});

test('token header: format/parse round trip', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), (token) => {
      const header = formatTokenHeader(token);
      assert.equal(header, `PrivateToken token="${base64url(token)}"`);
      assert.deepEqual(parseTokenHeader(header), token);
    }),
  );
});

test('token header: variants accepted', () => {
  const token = new Uint8Array([0, 2, 255, 1, 2]);
  const t = base64url(token);
  for (const header of [
    `PrivateToken token="${t}"`,
    `privateTOKEN TOKEN="${base64urlPadded(token)}"`,
    `PrivateToken token=${t}`,
    `PrivateToken token=${base64urlPadded(token)}`,
    `  PrivateToken   token = "${t}"  `,
    `PrivateToken token="${t}", future-extension="x"`,
    `PrivateToken extension=abc, token="${t}"`,
  ]) {
    assert.deepEqual(parseTokenHeader(header), token, header);
  }
});

test('token header: malformed credentials', () => {
  const t = base64url(new Uint8Array([0, 2, 3]));
  for (const header of [
    '',
    `Basic ${t}`,
    `Bearer token="${t}"`,
    `PrivateToken`,
    `PrivateToken ${t}`, // token68 form
    `PrivateToken tok="${t}"`,
    `PrivateToken token="${t}", token="${t}"`,
    `PrivateToken token="${t}", Token="${t}"`,
    `PrivateToken token="${t}", PrivateToken token="${t}"`,
    `PrivateToken token="${t}", Basic abc`,
    `PrivateToken token="${t}`,
    `PrivateToken token="${t}=="`,
    `PrivateToken token="${t}/"`,
    `PrivateToken token=""`,
    `PrivateToken token="${t}" x`,
  ]) {
    throwsReason(() => parseTokenHeader(header), 'malformed');
  }
});

test('token header: too-large before any parsing', () => {
  const long = 'PrivateToken token="' + 'A'.repeat(MAX_TOKEN_HEADER_LENGTH) + '"';
  throwsReason(() => parseTokenHeader(long), 'too-large');
  // Even when the rest is garbage.
  throwsReason(() => parseTokenHeader('\u0000'.repeat(3000)), 'too-large');
  throwsReason(() => parseTokenHeader('PrivateToken token="AAAA"', 10), 'too-large');
  assert.deepEqual(parseTokenHeader('PrivateToken token="AAAA"', 25), new Uint8Array(3));
  // A real type 2 token header is well under the default.
  assert.ok(formatTokenHeader(new Uint8Array(354)).length < MAX_TOKEN_HEADER_LENGTH);
});

const headerCharArb = fc.constantFrom(
  ...'PrivateTokenchallenge-key token=",\\ \t()/+_AaZz09=éX\u0000\u00ff'.split(''),
);
const headerishArb = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.array(headerCharArb, { maxLength: 120 }).map((cs) => cs.join('')),
  fc.tuple(paramsArb, fc.nat(), fc.string({ maxLength: 8 })).map(([p, at, junk]) => {
    const h = formatChallengeHeader(p);
    const i = at % (h.length + 1);
    return h.slice(0, i) + junk + h.slice(i);
  }),
);

test('random strings only ever fail with PrivacyPassError', () => {
  fc.assert(
    fc.property(headerishArb, (s) => {
      onlyPrivacyPassErrors(() => parseChallengeHeader(s));
      onlyPrivacyPassErrors(() => parseTokenHeader(s));
    }),
    { numRuns: 5000 },
  );
});

test('every strict prefix of a challenge header either parses or is malformed', () => {
  const header = formatChallengeHeader({ challenge, tokenKey, maxAge: 30 });
  for (let n = 0; n < header.length; n++) {
    onlyPrivacyPassErrors(() => parseChallengeHeader(header.slice(0, n)));
  }
  const token = formatTokenHeader(new Uint8Array(354).fill(7));
  for (let n = 0; n < token.length; n++) {
    throwsReason(() => parseTokenHeader(token.slice(0, n)), 'malformed');
  }
});

test('parsing is linear: long adversarial headers stay fast', () => {
  // 64 Ki characters: a linear parser takes a few milliseconds, a quadratic one (4 billion
  // steps) far longer than the bound, which leaves a busy machine hundreds of times the time.
  const cases = [
    'PrivateToken ' + 'a=b, '.repeat(12_000),
    'x '.repeat(32_000),
    'PrivateToken x="' + '\\"'.repeat(32_000) + '"',
    ','.repeat(64_000),
    'PrivateToken ' + 'a'.repeat(64_000),
    'PrivateToken a' + ' '.repeat(63_980) + '=',
  ];
  for (const header of cases) {
    const t0 = performance.now();
    onlyPrivacyPassErrors(() => parseChallengeHeader(header, 1 << 20));
    assert.ok(performance.now() - t0 < 2000, `slow on ${header.slice(0, 20)}…`);
  }
});
