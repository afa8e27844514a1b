/**
 * The gateway side of RFC 9458 §4: find the key, decapsulate the request, and encapsulate the
 * response with the context the request left behind.
 *
 *   const gateway = await createGateway({ keys: [{ keyId: 1, kemId: 0x20, privateKey, symmetric }] });
 *   serve GET /ohttp-keys with gateway.encodedKeys (application/ohttp-keys)
 *   on POST message/ohttp-req:
 *     const { request, context } = await gateway.decapsulateRequest(body);   // OhttpError → 400
 *     ... decode the Binary HTTP request, fetch, encode the response ...
 *     reply 200 message/ohttp-res with context.encapsulateResponse(bhttpResponse)
 *
 * Keys are imported once, in `createGateway`; each request then costs one KEM decapsulation,
 * the key schedule, one AEAD open and one export. The response side is synchronous.
 */
import { systemRng, type HpkePrivateKey, type HpkeSuite, type Rng } from '@splitrelay/hpke';
import { OhttpError } from './errors.ts';
import {
  ascii,
  BHTTP_LABELS,
  decodeHeader,
  HEADER_LENGTH,
  requestInfo,
  responseKeys,
  responseNonceLength,
  suiteFor,
  type Labels,
  type RequestHeader,
} from './header.ts';
import { encodeKeys, type KeyConfig, type SymmetricAlgorithm } from './key-config.ts';

export interface GatewayKeyInput {
  readonly keyId: number;
  readonly kemId: number;
  /** SerializePrivateKey bytes (Nsk: 32 for X25519, the 32-byte seed for X-Wing). */
  readonly privateKey: Uint8Array;
  readonly symmetric: readonly SymmetricAlgorithm[];
}

export interface GatewayOptions {
  readonly keys: readonly GatewayKeyInput[];
  /** Randomness for response nonces. Default crypto.getRandomValues. */
  readonly rng?: Rng;
}

interface GatewayKey {
  readonly config: KeyConfig;
  readonly privateKey: HpkePrivateKey;
  /** One suite per listed symmetric pair, keyed "kdf/aead". */
  readonly suites: ReadonlyMap<string, HpkeSuite>;
}

export interface GatewayResponseContext {
  readonly suite: HpkeSuite;
  readonly enc: Uint8Array;
  readonly secret: Uint8Array;
  readonly header: RequestHeader;
  /** RFC 9458 §4.4: response_nonce || Seal(key, nonce, "", response). */
  encapsulateResponse(response: Uint8Array): Uint8Array;
}

export interface Gateway {
  /** The key configurations, in the order given. */
  readonly configs: readonly KeyConfig[];
  /** `application/ohttp-keys` for the keys endpoint (RFC 9458 §3.2). */
  readonly encodedKeys: Uint8Array;
  decapsulateRequest(
    encapsulatedRequest: Uint8Array,
  ): Promise<{ request: Uint8Array; context: GatewayResponseContext }>;
  /**
   * For the chunked form: the key and suite named by a request header, and the HPKE
   * recipient context for `enc` (throws 'unknown-key' or 'decrypt-failed').
   * @internal shared with chunked.ts
   */
  openContext(hdr: Uint8Array, enc: Uint8Array, labels: Labels): Promise<OpenedContext>;
  /** Nenc of the suite a header names, or throws 'unknown-key'. @internal */
  encLength(hdr: Uint8Array): number;
  readonly rng: Rng;
}

export interface OpenedContext {
  readonly suite: HpkeSuite;
  readonly header: RequestHeader;
  readonly secret: Uint8Array;
  open(ct: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const rng = options.rng ?? systemRng;
  const keys = new Map<number, GatewayKey>();
  for (const input of options.keys) {
    if (keys.has(input.keyId)) throw new RangeError(`duplicate key id ${input.keyId}`);
    const suites = new Map<string, HpkeSuite>();
    for (const s of input.symmetric) {
      const suite = suiteFor({ kemId: input.kemId, kdfId: s.kdfId, aeadId: s.aeadId });
      if (suite === undefined) throw new RangeError('unsupported HPKE suite in gateway key');
      suites.set(`${s.kdfId}/${s.aeadId}`, suite);
    }
    const first = suites.values().next().value as HpkeSuite | undefined;
    if (first === undefined)
      throw new RangeError('a gateway key needs at least one symmetric pair');
    const privateKey = await first.importPrivateKey(input.privateKey);
    const config: KeyConfig = Object.freeze({
      keyId: input.keyId,
      kemId: input.kemId,
      publicKey: privateKey.publicKey,
      symmetric: Object.freeze(input.symmetric.map((s) => Object.freeze({ ...s }))),
    });
    keys.set(input.keyId, { config, privateKey, suites });
  }
  const configs = Object.freeze([...keys.values()].map((k) => k.config));

  function lookup(hdr: Uint8Array): { key: GatewayKey; suite: HpkeSuite; header: RequestHeader } {
    const header = decodeHeader(hdr);
    const key = keys.get(header.keyId);
    const suite = key?.suites.get(`${header.kdfId}/${header.aeadId}`);
    if (key === undefined || key.config.kemId !== header.kemId || suite === undefined) {
      throw new OhttpError('unknown-key');
    }
    return { key, suite, header };
  }

  async function openContext(
    hdr: Uint8Array,
    enc: Uint8Array,
    labels: Labels,
  ): Promise<OpenedContext> {
    const { key, suite, header } = lookup(hdr);
    let context;
    try {
      context = await suite.setupRecipient(key.privateKey, enc, requestInfo(labels.request, hdr));
    } catch (cause) {
      throw new OhttpError('decrypt-failed', { cause });
    }
    const secret = await context.export(ascii(labels.response), responseNonceLength(suite));
    return {
      suite,
      header,
      secret,
      async open(ct: Uint8Array, aad?: Uint8Array) {
        try {
          return await context.open(ct, aad);
        } catch (cause) {
          throw new OhttpError('decrypt-failed', { cause });
        }
      },
    };
  }

  return Object.freeze({
    configs,
    encodedKeys: encodeKeys(configs),
    rng,
    openContext,
    encLength(hdr: Uint8Array) {
      return lookup(hdr).suite.kem.Nenc;
    },
    async decapsulateRequest(bytes: Uint8Array) {
      if (bytes.length < HEADER_LENGTH) throw new OhttpError('malformed');
      const hdr = bytes.subarray(0, HEADER_LENGTH);
      const { suite } = lookup(hdr);
      const nenc = suite.kem.Nenc;
      if (bytes.length < HEADER_LENGTH + nenc) throw new OhttpError('decrypt-failed');
      const enc = bytes.slice(HEADER_LENGTH, HEADER_LENGTH + nenc);
      const opened = await openContext(hdr, enc, BHTTP_LABELS);
      const request = await opened.open(bytes.subarray(HEADER_LENGTH + nenc));
      const context: GatewayResponseContext = Object.freeze({
        suite,
        enc,
        secret: opened.secret,
        header: opened.header,
        encapsulateResponse(response: Uint8Array) {
          const n = responseNonceLength(suite);
          const responseNonce = rng(n);
          const { key, nonce } = responseKeys(suite, opened.secret, enc, responseNonce);
          const ct = suite.aead.seal(key, nonce, new Uint8Array(0), response);
          const out = new Uint8Array(n + ct.length);
          out.set(responseNonce, 0);
          out.set(ct, n);
          return out;
        },
      });
      return { request, context };
    },
  });
}
