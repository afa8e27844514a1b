/**
 * What a relay's manifest says, apart from when it was signed: the claims. A relay builds
 * them from its running config and compares them with the signed manifest it was given, so a
 * manifest can never promise one thing while the relay runs another.
 */
import type { KeyObject } from 'node:crypto';
import { manifestSchema, signManifest, type Manifest } from '@splitrelay/egress-addresses';
import type { SignedEnvelope } from '@splitrelay/directory';

/** The manifest without its signing window and version. */
export type ManifestClaims = Omit<Manifest, 'issuedAt' | 'notAfter' | 'version'>;

const WINDOW_FIELDS = new Set(['issuedAt', 'notAfter', 'version']);

/**
 * Every difference between the claims a relay runs with and a manifest, one line each
 * (`logging.level: the manifest says "info", this relay runs with "debug"`), in field order.
 * Empty when they agree. Signing window and version are not claims and never differ.
 */
export function manifestDrift(claims: ManifestClaims, manifest: Manifest): string[] {
  const out: string[] = [];
  const walk = (path: string, running: unknown, signed: unknown): void => {
    if (isPlainObject(running) && isPlainObject(signed)) {
      const keys = [...new Set([...Object.keys(running), ...Object.keys(signed)])];
      for (const key of keys) {
        if (path === '' && WINDOW_FIELDS.has(key)) continue;
        walk(path === '' ? key : `${path}.${key}`, running[key], signed[key]);
      }
      return;
    }
    if (JSON.stringify(running) !== JSON.stringify(signed)) {
      out.push(
        `${path}: the manifest says ${describe(signed)}, this relay runs with ${describe(running)}`,
      );
    }
  };
  walk('', claims, manifest);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

export interface IssueOptions {
  /** Unix seconds; the manifest is valid from a minute before (clock skew) for `days`. */
  readonly now: number;
  readonly days: number;
  /** Default `now`: a later signing always replaces an earlier one. */
  readonly version?: number;
}

/** Signs claims as a manifest valid for `days` from `now`, with the operator's key. */
export function issueManifest(
  claims: ManifestClaims,
  privateKey: KeyObject,
  options: IssueOptions,
): SignedEnvelope {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 366) {
    throw new RangeError('days must be a whole number from 1 to 366');
  }
  const manifest = manifestSchema.parse({
    ...claims,
    issuedAt: options.now - 60,
    notAfter: options.now + options.days * 86_400,
    version: options.version ?? options.now,
  });
  return signManifest(manifest, privateKey, claims.operator);
}
