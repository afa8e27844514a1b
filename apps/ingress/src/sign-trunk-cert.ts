#!/usr/bin/env node
/**
 * The ingress operator's signing tool for trunk certificates: writes a signed announcement
 * that the ingress publishes on the control plane, so egresses admit exactly the trunk
 * certificates the ingress operator vouches for.
 *
 *   node apps/ingress/src/sign-trunk-cert.ts --key ingress-operator.key --id ingress-1 \
 *     --cert trunk.crt --days 30 --out trunk-cert.json
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { keyIdOf } from '@splitrelay/directory';
import { signIngressCert, verifyIngressCert } from '@splitrelay/control-plane';
import { cliArgs } from '@splitrelay/config';

const usage =
  'usage: sign-trunk-cert --key operator.key --id INGRESS_ID --cert trunk.crt --days N --out file.json [--version N]';

const cli = cliArgs(usage, {
  key: { type: 'string' },
  id: { type: 'string' },
  cert: { type: 'string' },
  days: { type: 'string' },
  out: { type: 'string' },
  version: { type: 'string' },
});
const { values } = cli;
// Annotated, so TypeScript narrows after a call to it.
const fail: (message: string) => never = cli.fail;
const { key, id, cert, days, out } = values;
if (!key || !id || !cert || !days || !out) fail('missing a required flag');
const validDays = Number(days);
if (!Number.isInteger(validDays) || validDays < 1 || validDays > 366)
  fail('--days must be a whole number from 1 to 366');

const privateKey = createPrivateKey(readFileSync(key, 'utf8'));
const kid = keyIdOf(createPublicKey(privateKey));
const now = Math.floor(Date.now() / 1000);
// The canonical PEM of the certificate, as the schema requires (one certificate, no extras).
const certPem = new X509Certificate(readFileSync(cert)).toString();
try {
  const signed = signIngressCert(
    {
      v: 1,
      id,
      certPem,
      notBefore: now - 60,
      notAfter: now + validDays * 86_400,
      version: values.version !== undefined ? Number(values.version) : now,
    },
    privateKey,
    kid,
  );
  verifyIngressCert(signed, new Map([[kid, createPublicKey(privateKey)]]), now);
  writeFileSync(out, `${JSON.stringify(signed, null, 2)}\n`);
  process.stdout.write(`signed trunk certificate of ${id} (operator key ${kid}) into ${out}\n`);
} catch (err) {
  fail(`cannot sign this certificate: ${(err as Error).message}`);
}
