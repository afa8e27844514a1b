#!/usr/bin/env node
/**
 * Makes a new token key for the issuer (RFC 9578 type 0x0002, 2048-bit Blind RSA): writes the
 * private key (PKCS#8 PEM, mode 0600, never over an existing file) and prints the public token
 * key and its key id, for the rotation plan (deploy/issuer/README.md).
 *
 *   node apps/issuer/src/keygen.ts --out /etc/splitrelay/issuer/token-2026-12.key
 */
import { writeFileSync } from 'node:fs';
import { cliArgs } from '@splitrelay/config';
import { base64url, generateIssuerKeyPem, importTokenKey } from '@splitrelay/privacy-pass';

const usage = 'usage: splitrelay-issuer-keygen --out token.key [--json]';

const cli = cliArgs(usage, {
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const { values } = cli;
// Annotated, so TypeScript narrows after a call to it.
const fail: (message: string) => never = cli.fail;
if (!values.out) fail('missing --out');

const { privateKeyPem, tokenKey } = generateIssuerKeyPem();
const key = importTokenKey(tokenKey);
try {
  // 'wx': never over an existing key, which may still be in service.
  writeFileSync(values.out, privateKeyPem, { mode: 0o600, flag: 'wx' });
} catch (err) {
  fail(`cannot write ${values.out}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
}

const result = {
  file: values.out,
  tokenType: 2,
  tokenKey: base64url(key.spki),
  keyId: Buffer.from(key.id).toString('hex'),
  truncatedKeyId: key.truncatedId,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  process.stdout.write(
    `wrote ${result.file} (mode 0600)\n` +
      `token-type: 2\n` +
      `token-key: ${result.tokenKey}\n` +
      `key-id: ${result.keyId}\n` +
      `truncated-key-id: ${result.truncatedKeyId}\n`,
  );
}
