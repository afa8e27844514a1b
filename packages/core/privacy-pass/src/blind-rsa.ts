/**
 * RSABSSA-SHA384-PSS-Deterministic (RFC 9474), the client's half: blind a message for the
 * issuer and finalize its blind signature. The raw RSA public operation is OpenSSL's
 * (`publicEncrypt` without padding), the rest is a few BigInt products: about a millisecond a
 * token, where the pure-JavaScript big-number library of @cloudflare/privacypass-ts took about
 * 30 (docs/privacy-pass.md). Randomness comes from crypto.getRandomValues, salt then r, as in
 * that library, so the RFC 9578 vectors pin both.
 */
import { constants, createHash, publicEncrypt, verify, type KeyObject } from 'node:crypto';
import { PrivacyPassError } from './errors.ts';

const HASH = 'sha384';
const H_LEN = 48;
const SALT_LENGTH = 48;

const os2ip = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

function i2osp(x: bigint, length: number): Buffer {
  const hex = x.toString(16);
  if (hex.length > length * 2) throw new PrivacyPassError('malformed');
  return Buffer.from(hex.padStart(length * 2, '0'), 'hex');
}

function mgf1(seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let counter = 0, offset = 0; offset < length; counter++, offset += H_LEN) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    createHash(HASH).update(seed).update(c).digest().copy(out, offset);
  }
  return out;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384, MGF1-SHA-384 and a 48-byte salt. */
function emsaPssEncode(message: Uint8Array, emBits: number): Buffer {
  const emLen = Math.ceil(emBits / 8);
  const mHash = createHash(HASH).update(message).digest();
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const h = createHash(HASH).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - H_LEN - 1);
  db[db.length - SALT_LENGTH - 1] = 0x01;
  db.set(salt, db.length - SALT_LENGTH);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.of(0xbc)]);
}

/** x⁻¹ mod n by the extended Euclidean algorithm; undefined when gcd(x, n) ≠ 1. */
function inverseMod(x: bigint, n: bigint): bigint | undefined {
  let [oldR, r] = [x % n, n];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) return undefined;
  return ((oldS % n) + n) % n;
}

export interface Blinded {
  readonly blindedMsg: Uint8Array;
  /** r⁻¹ mod n, kept by the client until finalize. */
  readonly inv: bigint;
}

/** The modulus of an RSA public key, from its JWK form. */
export function modulusOf(key: KeyObject): bigint {
  const n = key.export({ format: 'jwk' }).n;
  if (typeof n !== 'string') throw new PrivacyPassError('bad-key');
  return os2ip(Buffer.from(n, 'base64url'));
}

/** RFC 9474 §4.2 Blind, for `key` (a plain RSA public key) and its modulus `n`. */
export function blind(key: KeyObject, n: bigint, message: Uint8Array): Blinded {
  const modBits = n.toString(2).length;
  const kLen = Math.ceil(modBits / 8);
  const m = os2ip(emsaPssEncode(message, modBits - 1));
  if (inverseMod(m, n) === undefined) throw new PrivacyPassError('bad-key');
  for (let tries = 0; tries < 128; tries++) {
    const r = os2ip(globalThis.crypto.getRandomValues(new Uint8Array(kLen)));
    if (r === 0n || r >= n) continue;
    const inv = inverseMod(r, n);
    if (inv === undefined) throw new PrivacyPassError('bad-key');
    const x = os2ip(publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, i2osp(r, kLen)));
    return { blindedMsg: i2osp((m * x) % n, kLen), inv };
  }
  throw new PrivacyPassError('bad-key');
}

/** RFC 9474 §4.4 Finalize: the unblinded signature, or 'malformed' when it does not verify. */
export function finalize(
  key: KeyObject,
  n: bigint,
  message: Uint8Array,
  blindSig: Uint8Array,
  inv: bigint,
): Uint8Array {
  const kLen = Math.ceil(n.toString(2).length / 8);
  if (blindSig.length !== kLen) throw new PrivacyPassError('malformed');
  const z = os2ip(blindSig);
  if (z >= n) throw new PrivacyPassError('malformed');
  const signature = i2osp((z * inv) % n, kLen);
  const ok = verify(
    HASH,
    message,
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_LENGTH },
    signature,
  );
  if (!ok) throw new PrivacyPassError('malformed');
  return signature;
}
