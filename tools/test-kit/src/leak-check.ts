/**
 * The auditor's check: does a capture (or a log) contain anything that identifies a
 * target (for the ingress) or a client (for the egress)? Returns every needle found, with
 * context, so a failure says what leaked where.
 *
 * A thin adapter over `@splitrelay/evidence`, kept for the end-to-end tests' call shape:
 * each needle is a literal, matched exactly as text, first occurrence per haystack. The
 * search in every encoding (raw, hex, base64, DNS wire, each address spelling) is
 * `findLeaks` of `@splitrelay/evidence` with `targetIdentities`.
 */
import { findLeaks as findInEveryForm } from '@splitrelay/evidence';

export interface Finding {
  readonly needle: string;
  readonly where: string;
  readonly context: string;
}

export function findLeaks(
  haystacks: Readonly<Record<string, Uint8Array | string>>,
  needles: readonly string[],
): Finding[] {
  const literals = needles.filter((n) => n.length > 0);
  return findInEveryForm(
    haystacks,
    literals.map((text) => ({ kind: 'text', text, label: text })),
    { contextBytes: 40, maxFindingsPerNeedle: 1, encodings: ['text'] },
  ).map((f) => ({ needle: f.identity, where: f.haystack, context: f.context }));
}

/** The forms a target can take in text: its name, its address, and either with its port. */
export function targetNeedles(target: { name: string; ip: string; port: number }): string[] {
  return [target.name, target.ip, `${target.name}:${target.port}`, `${target.ip}:${target.port}`];
}
