/**
 * The pieces together, as the relays will use them: a Binary HTTP request in chunked OHTTP, a
 * gateway that parses it as it arrives, and a large response streamed back as
 * indeterminate-length Binary HTTP inside chunked OHTTP, parsed by the client chunk by chunk,
 * an informational 103 included. Nothing is encoded or decoded whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BhttpParser,
  encodeContentChunk,
  encodeIndeterminateRequestHead,
  encodeIndeterminateResponseHead,
  encodeIndeterminateTail,
  type BhttpEvent,
} from '@splitrelay/bhttp';
import { createSuite } from '@splitrelay/hpke';
import { ChunkedRequestDecoder, createGateway, encapsulateChunkedRequest } from '../src/index.ts';

test('a streamed request and a 1 MiB streamed response through chunked OHTTP', async () => {
  const pair = await createSuite({ kemId: 0x647a, kdfId: 1, aeadId: 3 }).generateKeyPair();
  const gateway = await createGateway({
    keys: [
      {
        keyId: 7,
        kemId: 0x647a,
        privateKey: pair.privateKeyBytes,
        symmetric: [{ kdfId: 1, aeadId: 3 }],
      },
    ],
  });
  const config = gateway.configs[0] as (typeof gateway.configs)[number];

  // Client: request head, two body pieces, then the tail, each sealed as it is produced.
  const writer = await encapsulateChunkedRequest(config);
  const wire: Uint8Array[] = [writer.header];
  wire.push(
    await writer.sealChunk(
      encodeIndeterminateRequestHead(
        { method: 'POST', scheme: 'https', authority: 'target.example', path: '/upload' },
        [{ name: 'content-type', value: 'application/octet-stream' }],
      ),
    ),
  );
  for (const piece of [new Uint8Array(1000).fill(1), new Uint8Array(3000).fill(2)]) {
    wire.push(await writer.sealChunk(encodeContentChunk(piece)));
  }
  wire.push(
    await writer.sealFinal(encodeIndeterminateTail([{ name: 'x-checksum', value: 'abc' }])),
  );

  // Gateway: decrypt and parse each piece as it arrives.
  const seen: string[] = [];
  let uploaded = 0;
  const requestParser = new BhttpParser({
    kind: 'request',
    onEvent(e: BhttpEvent) {
      if (e.type === 'content') uploaded += e.chunk.length;
      else
        seen.push(
          e.type === 'request-head' ? `head ${e.control.method} ${e.control.path}` : e.type,
        );
    },
  });
  const decoder = new ChunkedRequestDecoder(gateway);
  for (const piece of wire) for (const pt of await decoder.push(piece)) requestParser.push(pt);
  requestParser.push(await decoder.end());
  requestParser.end();
  assert.equal(decoder.complete, true);
  assert.deepEqual(seen, ['head POST /upload', 'trailers', 'end']);
  assert.equal(uploaded, 4000);

  // Gateway: a 103, then the final head, then 64 pieces of 16 KiB, sealed one by one.
  const encoder = decoder.responseEncoder();
  const response: Uint8Array[] = [
    encoder.sealChunk(
      encodeIndeterminateResponseHead(
        200,
        [{ name: 'content-type', value: 'application/octet-stream' }],
        [{ status: 103, headers: [{ name: 'link', value: '</a.css>; rel=preload' }] }],
      ),
    ),
  ];
  const piece = new Uint8Array(16384);
  for (let i = 0; i < 64; i++) response.push(encoder.sealChunk(encodeContentChunk(piece.fill(i))));
  response.push(encoder.sealFinal(encodeIndeterminateTail()));

  // Client: decrypt and parse chunk by chunk; check the content as it streams.
  const clientEvents: string[] = [];
  let received = 0;
  let largest = 0;
  const responseParser = new BhttpParser({
    kind: 'response',
    limits: { maxContentBytes: 2 * 1024 * 1024 },
    onEvent(e: BhttpEvent) {
      if (e.type === 'content') {
        for (const b of e.chunk) assert.equal(b, Math.floor(received++ / 16384));
        largest = Math.max(largest, e.chunk.length);
      } else {
        clientEvents.push(
          e.type === 'informational' || e.type === 'response-head'
            ? `${e.type} ${e.status}`
            : e.type,
        );
      }
    },
  });
  const responseDecoder = writer.responseDecoder();
  for (const bytes of response)
    for (const pt of responseDecoder.push(bytes)) responseParser.push(pt);
  responseParser.push(responseDecoder.end());
  responseParser.end();
  assert.deepEqual(clientEvents, ['informational 103', 'response-head 200', 'trailers', 'end']);
  assert.equal(received, 64 * 16384);
  assert.ok(largest <= 16384, 'content arrives in pieces, not whole');
});
