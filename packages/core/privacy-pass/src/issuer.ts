/**
 * Issuer side of RFC 9578 §6.2: decode a TokenRequest, pick the key it names, and answer
 *
 *   struct {
 *       uint8_t blind_sig[Nk];              // rsabssa_blind_sign(skI, blinded_msg)
 *   } TokenResponse;
 *
 * Blind signing is raw RSA (RSASP1, then RSAVP1 to check the result, RFC 9474 §4.3) through
 * OpenSSL: node:crypto's privateDecrypt with RSA_NO_PADDING uses CRT and base blinding and
 * is hundreds of times faster than the library's pure-JS big integers.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  type KeyObject,
} from 'node:crypto';
import { PrivacyPassError } from './errors.ts';
import { copyBytes, equalBytes, readU16 } from './bytes.ts';
import { readElement, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE } from './der.ts';
import { importTokenKey, pssSpkiFor, type TokenKey } from './token-key.ts';
import { NK, TOKEN_TYPE_BLIND_RSA } from './token.ts';

export const TOKEN_REQUEST_LENGTH = 2 + 1 + NK; // 259

export interface IssuerKey {
  readonly tokenKey: TokenKey;
  /** Plain RSA private key (never an rsa-pss one: OpenSSL refuses raw operations on those). */
  readonly privateKey: KeyObject;
}

export interface TokenRequest {
  tokenType: number;
  truncatedTokenKeyId: number;
  blindedMsg: Uint8Array;
}

/** A fresh issuer key: RSA 2048, e = 65537, PKCS#8 PEM, and its token key (PSS SPKI). */
export function generateIssuerKeyPem(): { privateKeyPem: string; tokenKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
  });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    tokenKey: pssSpkiFor(publicKey),
  };
}

/** Any unencrypted PEM RSA private key of 2048 bits (PKCS#8 rsaEncryption or RSASSA-PSS, PKCS#1). */
export async function loadIssuerKey(privateKeyPem: string): Promise<IssuerKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
    if (key.asymmetricKeyType === 'rsa-pss') key = plainRsaFromPss(key);
  } catch (cause) {
    if (cause instanceof PrivacyPassError) throw cause;
    throw new PrivacyPassError('bad-key', { cause });
  }
  if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== 2048) {
    throw new PrivacyPassError('bad-key');
  }
  const tokenKey = importTokenKey(pssSpkiFor(createPublicKey(key)));
  return Object.freeze({ tokenKey, privateKey: key });
}

/** PKCS#8 { version, RSASSA-PSS AlgorithmIdentifier, OCTET STRING RSAPrivateKey } → plain RSA. */
function plainRsaFromPss(key: KeyObject): KeyObject {
  const der = new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  const outer = readElement(der, 0, der.length);
  if (outer.tag !== TAG_SEQUENCE) throw new PrivacyPassError('bad-key');
  const version = readElement(der, outer.contentStart, outer.end);
  if (version.tag !== TAG_INTEGER) throw new PrivacyPassError('bad-key');
  const algorithm = readElement(der, version.end, outer.end);
  const inner = readElement(der, algorithm.end, outer.end);
  if (inner.tag !== TAG_OCTET_STRING) throw new PrivacyPassError('bad-key');
  return createPrivateKey({
    key: Buffer.from(der.subarray(inner.contentStart, inner.end)),
    format: 'der',
    type: 'pkcs1',
  });
}

export function decodeTokenRequest(bytes: Uint8Array): TokenRequest {
  if (bytes.length < 2) throw new PrivacyPassError('malformed');
  const tokenType = readU16(bytes, 0);
  if (tokenType !== TOKEN_TYPE_BLIND_RSA) throw new PrivacyPassError('unsupported-type');
  if (bytes.length !== TOKEN_REQUEST_LENGTH) throw new PrivacyPassError('malformed');
  return { tokenType, truncatedTokenKeyId: bytes[2] ?? 0, blindedMsg: copyBytes(bytes, 3) };
}

/**
 * The TokenResponse for a TokenRequest. Keys are tried in the order given among those whose
 * truncated id matches (RFC 9578 §6.2 allows collisions); the first that can sign the
 * blinded message (it is below that key's modulus and the signature checks) answers.
 * None match: 'unknown-key'. Matches but none can sign: 'malformed'.
 */
export async function issueTokenResponse(
  request: Uint8Array,
  keys: readonly IssuerKey[],
): Promise<Uint8Array> {
  const { truncatedTokenKeyId, blindedMsg } = decodeTokenRequest(request);
  let matched = false;
  for (const key of keys) {
    if (key.tokenKey.truncatedId !== truncatedTokenKeyId) continue;
    matched = true;
    const blindSig = blindSign(key, blindedMsg);
    if (blindSig !== undefined) return blindSig;
  }
  throw new PrivacyPassError(matched ? 'malformed' : 'unknown-key');
}

/** RSASP1 then RSAVP1 (RFC 9474 §4.3 steps 1-5); undefined when m ≥ n or the check fails. */
function blindSign(key: IssuerKey, blindedMsg: Uint8Array): Uint8Array | undefined {
  try {
    const s = leftPad(
      privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, blindedMsg),
    );
    const m = leftPad(
      publicEncrypt({ key: key.tokenKey.publicKey, padding: constants.RSA_NO_PADDING }, s),
    );
    return equalBytes(m, blindedMsg) ? s : undefined;
  } catch {
    return undefined;
  }
}

function leftPad(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(NK);
  if (bytes.length > NK) throw new PrivacyPassError('malformed');
  out.set(bytes, NK - bytes.length);
  return out;
}
