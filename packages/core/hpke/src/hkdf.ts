/**
 * HKDF-SHA256 (RFC 5869) on node:crypto, as HPKE's KDF 0x0001 (RFC 9180 §7.2) and as the
 * `Extract`/`Expand` that OHTTP response encryption calls directly (RFC 9458 §4.4).
 *
 * Synchronous underneath: one `createHmac` per Extract and per 32-byte block of Expand, with
 * no WebCrypto key import and no promise per step. The library's own KDF imports an HMAC
 * CryptoKey for every salt; that, not the hashing, is most of its cost.
 *
 * Work that does not depend on the request is done once: in base mode, RFC 9180 §5.1 computes
 * `psk_id_hash = LabeledExtract("", "psk_id_hash", "")` and `info_hash = LabeledExtract("",
 * "info_hash", info)` on every setup, although OHTTP's `info` is fixed per key configuration
 * (§4.3: it is the label plus the request header). Those two extracts are memoized by their
 * exact input, in a small bounded map, so a gateway pays for them once per key and suite.
 */
import { createHmac } from 'node:crypto';
import type { KDF, KDFFactory } from 'hpke';
import { ascii, view } from './bytes.ts';

export const KDF_HKDF_SHA256_ID = 0x0001;
const NH = 32;
const ZERO_SALT = new Uint8Array(NH);

/** The synchronous KDF the OHTTP core uses for its response keys. */
export interface SyncKdf {
  readonly id: number;
  readonly Nh: number;
  extract(salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  expand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
}

export function hkdfSha256Extract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return view(
    createHmac('sha256', salt.length === 0 ? ZERO_SALT : salt)
      .update(ikm)
      .digest(),
  );
}

export function hkdfSha256Expand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * NH) {
    throw new RangeError('HKDF-Expand length out of range');
  }
  if (length <= NH) {
    // The common case in HPKE and OHTTP: one block, T(1) = HMAC(prk, info || 0x01).
    const t = createHmac('sha256', prk).update(info).update(ONE).digest();
    return view(t).subarray(0, length);
  }
  const out = new Uint8Array(Math.ceil(length / NH) * NH);
  let previous = new Uint8Array(0);
  for (let i = 0; i * NH < length; i++) {
    const block = createHmac('sha256', prk)
      .update(previous)
      .update(info)
      .update(Uint8Array.of(i + 1))
      .digest();
    out.set(block, i * NH);
    previous = block;
  }
  return out.subarray(0, length);
}
const ONE = Uint8Array.of(1);

export const hkdfSha256: SyncKdf = Object.freeze({
  id: KDF_HKDF_SHA256_ID,
  Nh: NH,
  extract: hkdfSha256Extract,
  expand: hkdfSha256Expand,
});

/** "HPKE-v1" || "HPKE": how every key-schedule LabeledExtract input starts (RFC 9180 §4, §5.1). */
const KEY_SCHEDULE_PREFIX = ascii('HPKE-v1HPKE');
/** Offset of the label: "HPKE-v1" (7) + suite_id ("HPKE" + three 2-byte ids = 10). */
const LABEL_AT = 17;
const MEMO_LABELS = [ascii('psk_id_hash'), ascii('info_hash')];
/** Inputs longer than this are not memoized (an `info` that big is not an OHTTP header). */
const MEMO_MAX_INPUT = 512;
const MEMO_MAX_ENTRIES = 256;

function isMemoizable(ikm: Uint8Array): boolean {
  if (ikm.length > MEMO_MAX_INPUT || ikm.length < LABEL_AT) return false;
  for (let i = 0; i < KEY_SCHEDULE_PREFIX.length; i++) {
    if (ikm[i] !== KEY_SCHEDULE_PREFIX[i]) return false;
  }
  return MEMO_LABELS.some((label) => {
    if (ikm.length < LABEL_AT + label.length) return false;
    for (let i = 0; i < label.length; i++) if (ikm[LABEL_AT + i] !== label[i]) return false;
    return true;
  });
}

/**
 * The `hpke` library's KDF interface over the functions above. Its methods are `async` only
 * because the interface is; nothing in them waits.
 */
export const KDF_HKDF_SHA256_NODE: KDFFactory = function (): KDF {
  const memo = new Map<string, Uint8Array>();
  return {
    id: KDF_HKDF_SHA256_ID,
    type: 'KDF',
    name: 'HKDF-SHA256',
    Nh: NH,
    stages: 2,
    async Extract(salt, ikm) {
      if (salt.length !== 0 || !isMemoizable(ikm)) return hkdfSha256Extract(salt, ikm);
      // latin1 maps each byte to one char, so the key is exact and cheap to build.
      const key = Buffer.from(ikm.buffer, ikm.byteOffset, ikm.byteLength).toString('latin1');
      let prk = memo.get(key);
      if (prk === undefined) {
        prk = hkdfSha256Extract(salt, ikm);
        if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
        memo.set(key, prk);
      }
      // A copy: the library must not be able to change a cached value.
      return prk.slice();
    },
    async Expand(prk, info, length) {
      return hkdfSha256Expand(prk, info, length);
    },
    async Derive() {
      throw new Error('HKDF is a two-stage KDF');
    },
  };
};
