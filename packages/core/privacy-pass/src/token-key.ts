/**
 * RFC 9578 §6.5 token keys for token type 0x0002: a DER SubjectPublicKeyInfo whose
 * algorithm is id-RSASSA-PSS (RFC 4055, RFC 5756) with SHA-384, MGF1-SHA-384 and a 48-byte
 * salt, around a 2048-bit RSAPublicKey. token_key_id = SHA-256(the SPKI bytes), so the bytes
 * themselves matter: the RFC's vectors write the hash AlgorithmIdentifiers without
 * parameters, OpenSSL writes them with NULL parameters; both spellings are read, the
 * RFC's is written.
 *
 *   SubjectPublicKeyInfo ::= SEQUENCE {
 *     algorithm        AlgorithmIdentifier,   -- id-RSASSA-PSS + RSASSA-PSS-params
 *     subjectPublicKey BIT STRING }           -- 0x00 || RSAPublicKey (PKCS#1)
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { PrivacyPassError } from './errors.ts';
import { concatBytes, copyBytes, equalBytes } from './bytes.ts';
import { encodeElement, readElement, TAG_BIT_STRING, TAG_SEQUENCE } from './der.ts';

export interface TokenKey {
  /** The SPKI bytes exactly as given: token_key_id is their hash. */
  readonly spki: Uint8Array;
  /** SHA-256(spki), 32 bytes. */
  readonly id: Uint8Array;
  /** Last byte of `id`: what a TokenRequest names (RFC 9578 §6.1). */
  readonly truncatedId: number;
  /** Plain RSA public key; verify with RSA-PSS, SHA-384, salt 48. */
  readonly publicKey: KeyObject;
}

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** id-RSASSA-PSS { sha384, mgf1(sha384), saltLength 48 }, as RFC 9578's vectors spell it. */
const PSS_ALGORITHM_RFC = hex(
  '303d06092a864886f70d01010a3030a00d300b0609608648016503040202a11a301806092a864886f70d010108' +
    '300b0609608648016503040202a203020130',
);
/** The same parameters with explicit NULL hash parameters, as OpenSSL writes them. */
const PSS_ALGORITHM_NULL_PARAMS = hex(
  '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d01' +
    '0108300d06096086480165030402020500a203020130',
);

const MODULUS_BITS = 2048;

export function tokenKeyId(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(spki).digest());
}

export function importTokenKey(spki: Uint8Array): TokenKey {
  if (!(spki instanceof Uint8Array)) throw new PrivacyPassError('bad-key');
  const rsaPublicKey = rsaPublicKeyFromPssSpki(spki);
  const publicKey = rsaPublicKeyObject(rsaPublicKey);
  const own = copyBytes(spki);
  const id = tokenKeyId(own);
  return Object.freeze({ spki: own, id, truncatedId: id[31] ?? 0, publicKey });
}

/** The PKCS#1 RSAPublicKey inside a PSS SPKI, after checking the envelope byte for byte. */
function rsaPublicKeyFromPssSpki(spki: Uint8Array): Uint8Array {
  const outer = readElement(spki, 0, spki.length);
  if (outer.tag !== TAG_SEQUENCE || outer.end !== spki.length)
    throw new PrivacyPassError('bad-key');
  const algorithm = readElement(spki, outer.contentStart, outer.end);
  const algorithmBytes = spki.subarray(algorithm.start, algorithm.end);
  if (
    !equalBytes(algorithmBytes, PSS_ALGORITHM_RFC) &&
    !equalBytes(algorithmBytes, PSS_ALGORITHM_NULL_PARAMS)
  ) {
    throw new PrivacyPassError('bad-key');
  }
  const bits = readElement(spki, algorithm.end, outer.end);
  if (bits.tag !== TAG_BIT_STRING || bits.end !== outer.end) throw new PrivacyPassError('bad-key');
  if (spki[bits.contentStart] !== 0x00) throw new PrivacyPassError('bad-key'); // unused bits
  return spki.subarray(bits.contentStart + 1, bits.end);
}

/** A 2048-bit RSA KeyObject from canonical PKCS#1 DER, or 'bad-key'. */
function rsaPublicKeyObject(rsaPublicKey: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(rsaPublicKey), format: 'der', type: 'pkcs1' });
  } catch (cause) {
    throw new PrivacyPassError('bad-key', { cause });
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'rsa' || details?.modulusLength !== MODULUS_BITS) {
    throw new PrivacyPassError('bad-key');
  }
  // RFC 8017 §3.1: n and e are odd, 3 <= e < n. OpenSSL does not insist on it for public keys.
  const e = details.publicExponent ?? 0n;
  const n = Buffer.from(key.export({ format: 'jwk' }).n ?? '', 'base64url');
  if (e < 3n || e % 2n === 0n || ((n[n.length - 1] ?? 0) & 1) === 0) {
    throw new PrivacyPassError('bad-key');
  }
  // OpenSSL reads some non-DER spellings (leading zeros, trailing bytes); one key, one id.
  const canonical = key.export({ type: 'pkcs1', format: 'der' });
  if (!equalBytes(canonical, rsaPublicKey)) throw new PrivacyPassError('bad-key');
  return key;
}

/** The RFC 9578 token key (PSS SPKI) for an RSA public key. */
export function pssSpkiFor(publicKey: KeyObject): Uint8Array {
  const rsaPublicKey = new Uint8Array(publicKey.export({ type: 'pkcs1', format: 'der' }));
  return encodeElement(
    TAG_SEQUENCE,
    concatBytes([
      PSS_ALGORITHM_RFC,
      encodeElement(TAG_BIT_STRING, concatBytes([new Uint8Array([0]), rsaPublicKey])),
    ]),
  );
}
