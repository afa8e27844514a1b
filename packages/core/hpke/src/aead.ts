/**
 * AES-128-GCM (AEAD 0x0001) and ChaCha20-Poly1305 (AEAD 0x0003) of RFC 9180 §7.3 on
 * node:crypto. The ciphertext is the encrypted plaintext followed by the 16-byte tag, as
 * RFC 5116 and HPKE define it.
 *
 * `open` throws `HpkeError('open-failed')` on any authentication failure, with OpenSSL's
 * error only as `cause`: one failure, one message, so a peer learns nothing from which check
 * failed.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import type { AEAD, AEADFactory } from 'hpke';
import { concat, view } from './bytes.ts';
import { HpkeError } from './errors.ts';

export const AEAD_AES_128_GCM_ID = 0x0001;
export const AEAD_CHACHA20_POLY1305_ID = 0x0003;

const TAG = 16;

/** The synchronous AEAD the OHTTP core uses for responses and response chunks. */
export interface SyncAead {
  readonly id: number;
  readonly Nk: number;
  readonly Nn: number;
  readonly Nt: number;
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array;
}

function nodeAead(id: number, cipher: CipherGCMTypes | 'chacha20-poly1305', nk: number): SyncAead {
  return Object.freeze({
    id,
    Nk: nk,
    Nn: 12,
    Nt: TAG,
    seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
      const c = createCipheriv(cipher as CipherGCMTypes, key, nonce, { authTagLength: TAG });
      c.setAAD(aad);
      const head = c.update(pt);
      const tail = c.final();
      return concat(head, tail, c.getAuthTag());
    },
    open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
      if (ct.length < TAG) throw new HpkeError('open-failed');
      try {
        const d = createDecipheriv(cipher as CipherGCMTypes, key, nonce, { authTagLength: TAG });
        d.setAAD(aad);
        d.setAuthTag(ct.subarray(ct.length - TAG));
        const head = d.update(ct.subarray(0, ct.length - TAG));
        const tail = d.final();
        return tail.length === 0 ? view(head) : concat(head, tail);
      } catch (cause) {
        throw new HpkeError('open-failed', { cause });
      }
    },
  });
}

// The cast is for TypeScript only: node:crypto types ChaCha20-Poly1305 as a separate overload
// with the same setAAD/setAuthTag shape, and one code path serves both.
export const aes128Gcm: SyncAead = nodeAead(AEAD_AES_128_GCM_ID, 'aes-128-gcm', 16);
export const chacha20Poly1305: SyncAead = nodeAead(
  AEAD_CHACHA20_POLY1305_ID,
  'chacha20-poly1305',
  32,
);

function factory(aead: SyncAead, name: string): AEADFactory {
  return function (): AEAD {
    return {
      id: aead.id,
      type: 'AEAD',
      name,
      Nk: aead.Nk,
      Nn: aead.Nn,
      Nt: aead.Nt,
      async Seal(key, nonce, aad, pt) {
        return aead.seal(key, nonce, aad, pt);
      },
      async Open(key, nonce, aad, ct) {
        return aead.open(key, nonce, aad, ct);
      },
    };
  };
}

export const AEAD_AES_128_GCM_NODE: AEADFactory = factory(aes128Gcm, 'AES-128-GCM');
export const AEAD_CHACHA20_POLY1305_NODE: AEADFactory = factory(
  chacha20Poly1305,
  'ChaCha20Poly1305',
);
