export {
  createCa,
  issueCert,
  selfSigned,
  type CaOptions,
  type CertKeyPair,
  type LeafOptions,
  type Usage,
} from './certs.ts';
export {
  ensureDevPki,
  type DevCertSpec,
  type DevPkiPaths,
  type DevPkiSpec,
  type PemPaths,
} from './dev-pki.ts';
