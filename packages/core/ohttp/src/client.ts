/**
 * The client side of RFC 9458 §4: encapsulate a request to a key configuration, then
 * decapsulate the gateway's response with the context that request left behind.
 *
 *   const { encapsulatedRequest, context } = await encapsulateRequest(config, bhttpRequest);
 *   // POST encapsulatedRequest to the relay as message/ohttp-req ...
 *   const bhttpResponse = context.decapsulateResponse(responseBody);   // message/ohttp-res
 */
import { type HpkeSuite, type Rng, type SuiteIds } from '@splitrelay/hpke';
import { OhttpError } from './errors.ts';
import {
  ascii,
  BHTTP_LABELS,
  encodeHeader,
  requestInfo,
  responseKeys,
  responseNonceLength,
  suiteFor,
  type Labels,
} from './header.ts';
import type { KeyConfig, SymmetricAlgorithm } from './key-config.ts';

export interface ClientOptions {
  /** Which of the configuration's algorithms to use; default: the first this package supports. */
  readonly symmetric?: SymmetricAlgorithm;
  /** Randomness for the HPKE ephemeral key (tests replay vectors with it). */
  readonly rng?: Rng;
  /** Default: "message/bhttp request" / "message/bhttp response" (RFC 9458 §4.6 repurposing). */
  readonly labels?: Labels;
}

/** The client's half of an exchange: what it needs to open the response. */
export interface ClientContext {
  readonly suite: HpkeSuite;
  readonly enc: Uint8Array;
  /** The exported response secret, max(Nn, Nk) bytes. */
  readonly secret: Uint8Array;
}

export interface ClientRequest {
  readonly encapsulatedRequest: Uint8Array;
  readonly context: ClientResponseContext;
}

export interface ClientResponseContext extends ClientContext {
  /** RFC 9458 §4.4 in reverse; throws OhttpError('decrypt-failed'). */
  decapsulateResponse(encapsulatedResponse: Uint8Array): Uint8Array;
}

/** Picks the suite for `config`: the requested symmetric pair, or the first supported one. */
function chooseSuite(config: KeyConfig, options: ClientOptions = {}): HpkeSuite {
  const candidates = options.symmetric ? [options.symmetric] : config.symmetric;
  for (const s of candidates) {
    if (!config.symmetric.some((c) => c.kdfId === s.kdfId && c.aeadId === s.aeadId)) continue;
    const ids: SuiteIds = { kemId: config.kemId, kdfId: s.kdfId, aeadId: s.aeadId };
    const suite = suiteFor(ids, options.rng);
    if (suite) return suite;
  }
  throw new OhttpError('unknown-key');
}

/** Sets up the HPKE sender for `config` (shared by the plain and chunked forms). */
export async function setupClient(config: KeyConfig, labels: Labels, options: ClientOptions) {
  const suite = chooseSuite(config, options);
  const hdr = encodeHeader({ keyId: config.keyId, ...suite.ids });
  const publicKey = await suite.importPublicKey(config.publicKey);
  const { enc, context } = await suite.setupSender(publicKey, requestInfo(labels.request, hdr));
  const secret = await context.export(ascii(labels.response), responseNonceLength(suite));
  return { suite, hdr, enc, context, secret };
}

export async function encapsulateRequest(
  config: KeyConfig,
  request: Uint8Array,
  options: ClientOptions = {},
): Promise<ClientRequest> {
  const { suite, hdr, enc, context, secret } = await setupClient(
    config,
    options.labels ?? BHTTP_LABELS,
    options,
  );
  const ct = await context.seal(request);
  const out = new Uint8Array(hdr.length + enc.length + ct.length);
  out.set(hdr, 0);
  out.set(enc, hdr.length);
  out.set(ct, hdr.length + enc.length);
  return {
    encapsulatedRequest: out,
    context: Object.freeze({
      suite,
      enc,
      secret,
      decapsulateResponse: (bytes: Uint8Array) =>
        decapsulateResponse({ suite, enc, secret }, bytes),
    }),
  };
}

export function decapsulateResponse(
  context: ClientContext,
  encapsulatedResponse: Uint8Array,
): Uint8Array {
  const n = responseNonceLength(context.suite);
  if (encapsulatedResponse.length < n + context.suite.aead.Nt)
    throw new OhttpError('decrypt-failed');
  const { key, nonce } = responseKeys(
    context.suite,
    context.secret,
    context.enc,
    encapsulatedResponse.subarray(0, n),
  );
  try {
    return context.suite.aead.open(key, nonce, new Uint8Array(0), encapsulatedResponse.subarray(n));
  } catch (cause) {
    throw new OhttpError('decrypt-failed', { cause });
  }
}
