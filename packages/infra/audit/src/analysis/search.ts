/**
 * The leak search as the checks use it: over files (logs, records, what a relay decrypted)
 * and over conversations in captures, with findings turned into evidence (file, packet,
 * offset, excerpt).
 *
 * One rule beyond the evidence core's: in haystacks that carry ciphertext (captures, and what
 * a relay decrypted, which still holds the inner layers' ciphertext), a bare IPv4 address is
 * not searched as its 4 raw bytes (nor its 16-byte mapped form). Four given bytes turn up by
 * chance once per 4 GiB of random data, and a run moves tens of megabytes, so such a "finding"
 * would be noise, not a leak. Every text spelling, hex and base64 is still searched, and so is
 * every address:port form in binary (6 or 18 bytes: a chance match is 2^-48).
 */
import {
  findLeaks,
  findLeaksInCapture,
  findingEvidence,
  type CaptureDissection,
  type Encoding,
  type EvidenceInput,
  type Finding,
  type Identity,
  type LeakSearchOptions,
} from '@splitrelay/evidence';

const ALL: readonly Encoding[] = ['text', 'percent', 'raw', 'hex', 'base64', 'dns-wire'];
const NOT_RAW: readonly Encoding[] = ALL.filter((e) => e !== 'raw');

export type Located = Finding & { packet?: number; fileOffset?: number; file: string };

function split(identities: readonly Identity[]): [Identity[], Identity[]] {
  const ips = identities.filter((i) => i.kind === 'ip');
  return [ips, identities.filter((i) => i.kind !== 'ip')];
}

/** Files searched as they are; `ciphertext` applies the rule above. */
export function searchFiles(
  files: Readonly<Record<string, Uint8Array | string>>,
  identities: readonly Identity[],
  options: { ciphertext: boolean; allow?: LeakSearchOptions['allow'] },
): Located[] {
  if (identities.length === 0 || Object.keys(files).length === 0) return [];
  const base = options.allow ? { allow: options.allow } : {};
  const found = options.ciphertext
    ? (() => {
        const [ips, rest] = split(identities);
        return [
          ...(ips.length ? findLeaks(files, ips, { ...base, encodings: NOT_RAW }) : []),
          ...(rest.length ? findLeaks(files, rest, base) : []),
        ];
      })()
    : findLeaks(files, identities, base);
  return found.map((f) => ({ ...f, file: f.haystack }));
}

/** A capture's conversations (already filtered), ciphertext rule applied. */
export function searchCapture(
  file: string,
  capture: CaptureDissection,
  identities: readonly Identity[],
  allow?: LeakSearchOptions['allow'],
): Located[] {
  if (identities.length === 0 || (capture.tcp.length === 0 && capture.udp.length === 0)) return [];
  const [ips, rest] = split(identities);
  const base = allow ? { allow } : {};
  return [
    ...(ips.length ? findLeaksInCapture(capture, ips, { ...base, encodings: NOT_RAW }) : []),
    ...(rest.length ? findLeaksInCapture(capture, rest, base) : []),
  ].map((f) => ({ ...f, file }));
}

const MAX_EVIDENCE_PER_CHECK = 20;

/** Findings as evidence, first ones first, at most MAX_EVIDENCE_PER_CHECK. */
export function leakEvidence(findings: readonly Located[]): EvidenceInput[] {
  const sorted = [...findings].sort((a, b) => a.file.localeCompare(b.file) || a.offset - b.offset);
  return sorted.slice(0, MAX_EVIDENCE_PER_CHECK).map((f) => {
    const ev = findingEvidence(f, f.file);
    return f.file === f.haystack
      ? { ...ev, note: `${f.identity} as ${f.encoding} (${f.form})` }
      : ev;
  });
}
