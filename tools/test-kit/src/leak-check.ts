/**
 * The auditor's check: does a capture (or a log) contain anything that identifies a
 * target (for the ingress) or a client (for the egress)? Returns every needle found, with
 * context, so a failure says what leaked where.
 */
export interface Finding {
  readonly needle: string;
  readonly where: string;
  readonly context: string;
}

export function findLeaks(
  haystacks: Readonly<Record<string, Buffer | string>>,
  needles: readonly string[],
): Finding[] {
  const findings: Finding[] = [];
  for (const [where, data] of Object.entries(haystacks)) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (const needle of needles) {
      const at = bytes.indexOf(needle);
      if (at >= 0) {
        const context = bytes
          .subarray(Math.max(0, at - 40), at + needle.length + 40)
          .toString('latin1')
          .replace(/[^\x20-\x7e]/g, '.');
        findings.push({ needle, where, context });
      }
    }
  }
  return findings;
}

/** The forms a target can take in text: its name, its address, and either with its port. */
export function targetNeedles(target: { name: string; ip: string; port: number }): string[] {
  return [target.name, target.ip, `${target.name}:${target.port}`, `${target.ip}:${target.port}`];
}
