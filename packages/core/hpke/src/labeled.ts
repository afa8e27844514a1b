/**
 * RFC 9180 §4 labeled derivations, for the KEMs' own key derivation (their suite_id is
 * "KEM" || I2OSP(kem_id, 2), §4.1). The key schedule's derivations are the library's.
 */
import { createHash } from 'node:crypto';
import { ascii, concat, u16, view } from './bytes.ts';
import { hkdfSha256Expand, hkdfSha256Extract } from './hkdf.ts';

const HPKE_V1 = ascii('HPKE-v1');

export function kemSuiteId(kemId: number): Uint8Array {
  return concat(ascii('KEM'), u16(kemId));
}

export function labeledExtract(
  suiteId: Uint8Array,
  salt: Uint8Array,
  label: Uint8Array,
  ikm: Uint8Array,
): Uint8Array {
  return hkdfSha256Extract(salt, concat(HPKE_V1, suiteId, label, ikm));
}

export function labeledExpand(
  suiteId: Uint8Array,
  prk: Uint8Array,
  label: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfSha256Expand(prk, concat(u16(length), HPKE_V1, suiteId, label, info), length);
}

/**
 * LabeledDerive with SHAKE256 (draft-ietf-hpke-pq §5, the one-stage KDF the PQ KEMs use for
 * DeriveKeyPair): SHAKE256(ikm || "HPKE-v1" || suite_id || I2OSP(len(label), 2) || label ||
 * I2OSP(L, 2) || context, L).
 */
export function labeledDeriveShake256(
  suiteId: Uint8Array,
  ikm: Uint8Array,
  label: Uint8Array,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const input = concat(ikm, HPKE_V1, suiteId, u16(label.length), label, u16(length), context);
  return view(createHash('shake256', { outputLength: length }).update(input).digest());
}
