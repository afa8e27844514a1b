import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeRequest,
  decodeResponse,
  encodeContentChunk,
  encodeIndeterminateResponseHead,
  encodeIndeterminateTail,
  encodeRequest,
  encodeResponse,
  BhttpError,
} from '../src/index.ts';
import {
  events,
  examples,
  hex,
  isKind,
  onlyBhttpErrors,
  requestArb,
  responseArb,
  split,
  utf8,
} from './helpers.ts';

const knownRequest = hex(examples.knownLengthRequest as string);
const indetRequest = hex(examples.indeterminateLengthRequest as string);
const indetResponse = hex(examples.indeterminateLengthResponse as string);
const knownResponse = hex(examples.knownLengthChunkedResponse as string);

const sampleRequest = {
  method: 'GET',
  scheme: 'https',
  authority: '',
  path: '/hello.txt',
  headers: [
    { name: 'user-agent', value: 'curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3' },
    { name: 'host', value: 'www.example.com' },
    { name: 'accept-language', value: 'en, mi' },
  ],
  content: new Uint8Array(0),
  trailers: [],
};

test('RFC 9292 §5.1: the known- and indeterminate-length request examples, both ways', () => {
  const k = decodeRequest(knownRequest);
  assert.equal(k.framing, 'known-length');
  assert.deepEqual(k.value, sampleRequest);
  assert.deepEqual(encodeRequest(sampleRequest), knownRequest);
  const i = decodeRequest(indetRequest);
  assert.equal(i.framing, 'indeterminate');
  assert.deepEqual(i.value, sampleRequest);
  // The example carries 10 bytes of padding.
  assert.deepEqual(
    encodeRequest(sampleRequest, { framing: 'indeterminate', padding: 10 }),
    indetRequest,
  );
});

test('RFC 9292 §5.2: the response with 102 and 103 interim responses, both ways', () => {
  const r = decodeResponse(indetResponse);
  assert.equal(r.framing, 'indeterminate');
  assert.deepEqual(r.value.informational, [
    { status: 102, headers: [{ name: 'running', value: '"sleep 15"' }] },
    {
      status: 103,
      headers: [
        { name: 'link', value: '</style.css>; rel=preload; as=style' },
        { name: 'link', value: '</script.js>; rel=preload; as=script' },
      ],
    },
  ]);
  assert.equal(r.value.status, 200);
  assert.deepEqual(
    r.value.headers.map((f) => f.name),
    [
      'date',
      'server',
      'last-modified',
      'etag',
      'accept-ranges',
      'content-length',
      'vary',
      'content-type',
    ],
  );
  assert.equal(
    new TextDecoder().decode(r.value.content),
    'Hello World! My content includes a trailing CRLF.\r\n',
  );
  assert.deepEqual(r.value.trailers, []);
  assert.deepEqual(encodeResponse(r.value, { framing: 'indeterminate' }), indetResponse);
  // The streaming writers produce the same bytes.
  const streamed = Buffer.concat([
    encodeIndeterminateResponseHead(r.value.status, r.value.headers, r.value.informational),
    encodeContentChunk(r.value.content),
    encodeIndeterminateTail(),
  ]);
  assert.deepEqual(new Uint8Array(streamed), indetResponse);
});

test('RFC 9292 §5.2: the known-length response with a trailer, both ways', () => {
  const r = decodeResponse(knownResponse);
  assert.equal(r.value.status, 200);
  assert.deepEqual(r.value.headers, []);
  assert.equal(new TextDecoder().decode(r.value.content), 'This content contains CRLF.\r\n');
  assert.deepEqual(r.value.trailers, [{ name: 'trailer', value: 'text' }]);
  assert.deepEqual(encodeResponse(r.value), knownResponse);
});

test('strict prefixes decode only at the truncation points RFC 9292 §3.1/§3.2 allow', () => {
  const controlEnd = 23; // framing + GET + https + "" + /hello.txt
  const L = knownRequest.length;
  const ok = (bytes: Uint8Array, kind: 'request' | 'response'): number[] => {
    const lengths: number[] = [];
    for (let k = 0; k <= bytes.length; k++) {
      try {
        (kind === 'request' ? decodeRequest : decodeResponse)(bytes.subarray(0, k));
        lengths.push(k);
      } catch (err) {
        isKind('truncated')(err);
      }
    }
    return lengths;
  };
  assert.deepEqual(ok(knownRequest, 'request'), [controlEnd, L - 2, L - 1, L]);
  const I = indetRequest.length;
  const padded = Array.from({ length: 11 }, (_, i) => I - 10 + i);
  assert.deepEqual(ok(indetRequest, 'request'), [controlEnd, I - 12, I - 11, ...padded]);
  // After the final status (111), after the header terminator (314), without the (empty)
  // trailer section's terminator, and whole.
  const IR = indetResponse.length;
  assert.deepEqual(ok(indetResponse, 'response'), [111, 314, IR - 1, IR]);
  // Known-length response: after the status, before content, and whole.
  const R = knownResponse.length;
  const kr = ok(knownResponse, 'response');
  assert.deepEqual(kr, [3, 4, R - 14, R]); // R - 14: before the trailer section
});

test('one byte at a time gives the same events as one chunk, for every example', () => {
  for (const [kind, bytes] of [
    ['request', knownRequest],
    ['request', indetRequest],
    ['response', indetResponse],
    ['response', knownResponse],
  ] as const) {
    assert.deepEqual(events(kind, split(bytes, [...bytes.keys()])), events(kind, [bytes]));
  }
});

test('round trip: any request, either framing, padding, truncation and chunking', () => {
  fc.assert(
    fc.property(
      requestArb,
      fc.constantFrom('known-length', 'indeterminate') as fc.Arbitrary<
        'known-length' | 'indeterminate'
      >,
      fc.nat(8),
      fc.boolean(),
      fc.array(fc.nat()),
      (request, framing, padding, truncate, cuts) => {
        const bytes = encodeRequest(request, { framing, padding, truncate });
        const decoded = decodeRequest(bytes);
        assert.equal(decoded.framing, framing);
        assert.deepEqual(decoded.value, request);
        assert.deepEqual(events('request', split(bytes, cuts)), events('request', [bytes]));
      },
    ),
  );
});

test('round trip: any response with informational parts, either framing, any chunking', () => {
  fc.assert(
    fc.property(
      responseArb,
      fc.constantFrom('known-length', 'indeterminate') as fc.Arbitrary<
        'known-length' | 'indeterminate'
      >,
      fc.nat(8),
      fc.array(fc.nat()),
      (response, framing, padding, cuts) => {
        const bytes = encodeResponse(response, { framing, padding });
        assert.deepEqual(decodeResponse(bytes).value, response);
        assert.deepEqual(events('response', split(bytes, cuts)), events('response', [bytes]));
      },
    ),
  );
});

test('random and mutated bytes throw nothing but BhttpError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      onlyBhttpErrors(() => decodeRequest(bytes));
      onlyBhttpErrors(() => decodeResponse(bytes));
    }),
    { numRuns: 2000 },
  );
  const seeds = [knownRequest, indetRequest, indetResponse, knownResponse];
  fc.assert(
    fc.property(
      fc.nat(seeds.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (i, edits) => {
        const bytes = (seeds[i] as Uint8Array).slice();
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        onlyBhttpErrors(() => decodeRequest(bytes));
        onlyBhttpErrors(() => decodeResponse(bytes));
      },
    ),
    { numRuns: 2000 },
  );
});

test('hostile lengths are refused as soon as they are read, without buffering', () => {
  const control = hex('00 03474554 05687474707300 012f'); // GET https "" /
  // A header section that claims 2^30 bytes: too large before any of it arrives.
  assert.throws(
    () => decodeRequest(Buffer.concat([control, hex('bfffffff')])),
    (e) => {
      isKind('too-large')(e);
      assert.equal((e as BhttpError).status, 431);
      return true;
    },
  );
  // Content that claims 1 GiB.
  assert.throws(
    () => decodeRequest(Buffer.concat([control, hex('00 bfffffff')])),
    isKind('too-large'),
  );
  assert.throws(
    () =>
      decodeRequest(Buffer.concat([control, hex('00 0a'), new Uint8Array(10)]), {
        maxContentBytes: 9,
      }),
    isKind('too-large'),
  );
  // An indeterminate content chunk over the limit.
  const icontrol = hex('02 03474554 05687474707300 012f 00');
  assert.throws(
    () => decodeRequest(Buffer.concat([icontrol, hex('80100000')]), { maxContentBytes: 4096 }),
    isKind('too-large'),
  );
  // A field value longer than the section limit, announced before its bytes.
  assert.throws(
    () => decodeRequest(Buffer.concat([icontrol.subarray(0, -1), hex('0161 bfffffff')])),
    isKind('too-large'),
  );
  // Too many fields.
  const many = encodeRequest({
    ...base(),
    headers: Array.from({ length: 5 }, () => ({ name: 'a', value: 'b' })),
  });
  assert.throws(() => decodeRequest(many, { maxFields: 4 }), isKind('too-large'));
  // Control data over its bound.
  assert.throws(
    () =>
      decodeRequest(encodeRequest({ ...base(), path: '/' + 'a'.repeat(100) }), {
        maxControlBytes: 50,
      }),
    isKind('too-large'),
  );
  // Endless informational responses.
  const info = hex('03' + '4064 00'.repeat(20).replace(/ /g, ''));
  assert.throws(() => decodeResponse(info), isKind('too-large'));
});

function base() {
  return {
    method: 'GET',
    scheme: 'https',
    authority: 'a',
    path: '/',
    headers: [],
    content: new Uint8Array(0),
    trailers: [],
  };
}

test('invalid messages are malformed: framing, names, values, pseudo-fields, status, padding', () => {
  assert.throws(() => decodeRequest(hex('04')), isKind('malformed'));
  assert.throws(() => decodeRequest(knownResponse), isKind('malformed')); // a response as a request
  const req = (name: string, value: string) => {
    const bytes = encodeRequest(base()).slice(0, -3); // drop the empty header section and tail
    const line = Buffer.concat([
      Buffer.from([name.length]),
      Buffer.from(name, 'latin1'),
      Buffer.from([value.length]),
      Buffer.from(value, 'latin1'),
    ]);
    return Buffer.concat([bytes, Buffer.from([line.length]), line, hex('0000')]);
  };
  assert.doesNotThrow(() => decodeRequest(req('x-ok', 'fine')));
  for (const [n, v] of [
    ['Upper', 'x'],
    [':method', 'GET'],
    ['a b', 'x'],
    ['connection', 'close'],
    ['te', 'gzip'],
    ['x', ' leading'],
    ['x', 'trailing\t'],
    ['x', 'a\r\nb'],
    ['x', 'nul\u0000'],
  ]) {
    assert.throws(
      () => decodeRequest(req(n as string, v as string)),
      isKind('malformed'),
      `${n}: ${v}`,
    );
  }
  assert.throws(() => decodeResponse(hex('01 40 63 00')), isKind('malformed')); // status 99
  assert.throws(() => decodeResponse(hex('01 4258 00')), isKind('malformed')); // status 600
  assert.throws(
    () => decodeRequest(Buffer.concat([knownRequest, hex('0001')])),
    isKind('malformed'),
  );
  assert.throws(
    () => encodeRequest({ ...base(), headers: [{ name: 'Bad', value: 'x' }] }),
    BhttpError,
  );
  assert.throws(
    () =>
      encodeResponse({
        informational: [],
        status: 700,
        headers: [],
        content: new Uint8Array(0),
        trailers: [],
      }),
    BhttpError,
  );
  // Content bytes are opaque: anything goes, including zeros and CRLF.
  assert.deepEqual(
    decodeRequest(encodeRequest({ ...base(), content: utf8('\r\n\u0000') })).value.content,
    utf8('\r\n\u0000'),
  );
});
