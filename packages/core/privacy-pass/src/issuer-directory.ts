/**
 * RFC 9578 §4 issuer directory, served at /.well-known/private-token-issuer-directory as
 * application/private-token-issuer-directory:
 *
 *   {
 *     "issuer-request-uri": "https://issuer.example.net/request",
 *     "token-keys": [
 *       { "token-type": 2, "token-key": "MI...AB", "not-before": 1686913811 },
 *       { "token-type": 2, "token-key": "MI...AQ" }
 *     ]
 *   }
 *
 * Keys come in preference order. token-key is base64url "including padding" per the RFC;
 * reading accepts either spelling. Unknown fields are tolerated (and kept), so the schema
 * is loose where the RFC lets directories grow. Keys of other token types are kept too:
 * choosing among them is the reader's business (see `selectTokenKey`).
 */
import { z } from 'zod';
import { base64urlPadded, fromBase64url } from './base64url.ts';
import { BATCH_MEDIA_TYPES } from './batch.ts';
import { TOKEN_TYPE_BLIND_RSA } from './token.ts';

export const ISSUER_DIRECTORY_PATH = '/.well-known/private-token-issuer-directory';

/** RFC 9578 §8.2 media types, plus SplitRelay's batch framing (see batch.ts). */
export const MEDIA_TYPES = Object.freeze({
  directory: 'application/private-token-issuer-directory',
  request: 'application/private-token-request',
  response: 'application/private-token-response',
  ...BATCH_MEDIA_TYPES,
} as const);

/**
 * A 2048-bit RSA(-PSS) SPKI is about 300-350 bytes, under 470 base64 characters; this leaves
 * room and nothing more. The one bound for a token key's text, wherever it is read.
 */
export const MAX_TOKEN_KEY_CHARS = 700;

const base64urlString = z
  .string()
  .max(MAX_TOKEN_KEY_CHARS)
  .refine((s) => {
    try {
      return fromBase64url(s).length > 0;
    } catch {
      return false;
    }
  }, 'not base64url');

export const tokenKeyEntrySchema = z.looseObject({
  'token-type': z.number().int().min(0).max(0xffff),
  'token-key': base64urlString,
  /** UNIX seconds before which clients should not use the key. */
  'not-before': z.number().int().nonnegative().optional(),
});

export const issuerDirectorySchema = z.looseObject({
  'issuer-request-uri': z.string().min(1).max(2048),
  'token-keys': z.array(tokenKeyEntrySchema).max(256),
});

export type IssuerDirectory = z.output<typeof issuerDirectorySchema>;

/** A directory for token type 2 keys, in preference order, token-key padded as RFC 9578 asks. */
export function buildIssuerDirectory(
  issuerRequestUri: string,
  keys: ReadonlyArray<{ tokenKey: Uint8Array; notBefore?: number }>,
): IssuerDirectory {
  return issuerDirectorySchema.parse({
    'issuer-request-uri': issuerRequestUri,
    'token-keys': keys.map((k) => ({
      'token-type': TOKEN_TYPE_BLIND_RSA,
      'token-key': base64urlPadded(k.tokenKey),
      ...(k.notBefore === undefined ? {} : { 'not-before': k.notBefore }),
    })),
  });
}

/**
 * The key a client should use now (RFC 9578 §4: the first of the given type whose
 * not-before is absent or past), as SPKI bytes; undefined when none is usable yet.
 */
export function selectTokenKey(
  directory: IssuerDirectory,
  nowSeconds: number,
  tokenType: number = TOKEN_TYPE_BLIND_RSA,
): Uint8Array | undefined {
  for (const entry of directory['token-keys']) {
    if (entry['token-type'] !== tokenType) continue;
    const notBefore = entry['not-before'];
    if (notBefore !== undefined && notBefore > nowSeconds) continue;
    return fromBase64url(entry['token-key']);
  }
  return undefined;
}
