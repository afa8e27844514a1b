/**
 * The analysis reads an evidence folder through this: files by their path relative to the
 * folder, read once and kept, and capture files dissected once. A missing file is
 * `undefined` (the check that needed it says it could not be made), never an exception.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dissectCapture, type CaptureDissection } from '@splitrelay/evidence';

export interface EvidenceFiles {
  bytes(file: string): Uint8Array | undefined;
  text(file: string): string | undefined;
  capture(file: string): CaptureDissection | undefined;
}

export function evidenceFiles(dir: string): EvidenceFiles {
  const bytes = new Map<string, Uint8Array | undefined>();
  const captures = new Map<string, CaptureDissection | undefined>();
  const read = (file: string): Uint8Array | undefined => {
    if (!bytes.has(file)) {
      try {
        bytes.set(file, readFileSync(join(dir, file)));
      } catch {
        bytes.set(file, undefined);
      }
    }
    return bytes.get(file);
  };
  return {
    bytes: read,
    text: (file) => {
      const b = read(file);
      return b === undefined
        ? undefined
        : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
    },
    capture: (file) => {
      if (!captures.has(file)) {
        const b = read(file);
        let d: CaptureDissection | undefined;
        try {
          d = b === undefined ? undefined : dissectCapture(b);
        } catch {
          // A capture cut short (tcpdump killed) is still read up to its last whole packet by
          // the parser; anything it cannot read at all counts as missing.
          d = undefined;
        }
        captures.set(file, d);
      }
      return captures.get(file);
    },
  };
}

/** JSON lines with their byte offsets (for evidence), skipping any line that is not JSON. */
export function jsonLines(
  text: string | undefined,
): { offset: number; value: Record<string, unknown> }[] {
  if (text === undefined) return [];
  const out: { offset: number; value: Record<string, unknown> }[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const at = offset;
    offset += Buffer.byteLength(line, 'utf8') + 1;
    if (!line.startsWith('{')) continue;
    try {
      out.push({ offset: at, value: JSON.parse(line) as Record<string, unknown> });
    } catch {
      // A line cut short by a kill; the rest of the file still counts.
    }
  }
  return out;
}
