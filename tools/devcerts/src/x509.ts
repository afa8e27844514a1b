/**
 * @peculiar/x509, loaded only after the Reflect shim it needs. Every call passes Node's
 * WebCrypto explicitly rather than changing the library's global provider.
 */
import './reflect-shim.ts';
import * as x509 from '@peculiar/x509';

export const webcrypto: Crypto = globalThis.crypto;

export { x509 };
