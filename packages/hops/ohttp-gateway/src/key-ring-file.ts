/**
 * The key ring on disk: JSON, readable by the egress's user only. Written through a temporary
 * file and a rename, so an egress reloading on SIGHUP never reads half of one.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseKeyRing, type KeyRing } from './key-ring.ts';

export function readKeyRing(path: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RangeError(`ohttp key ring: cannot read ${path}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RangeError(`ohttp key ring: ${path} is not JSON`, { cause: err });
  }
  return parseKeyRing(json);
}

export function writeKeyRing(path: string, ring: KeyRing): void {
  const checked = parseKeyRing(ring);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** A ring with no key, to start from. */
export const EMPTY_RING: KeyRing = Object.freeze({ v: 1, keys: [] }) as KeyRing;
