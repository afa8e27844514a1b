/**
 * Port lists: single ports and inclusive ranges, as an operator writes them
 * (`[443, [8000, 8999]]`), compiled to sorted, merged ranges.
 */

export type PortSpec = number | readonly [number, number];

/** Inclusive [low, high], sorted by low and never overlapping or touching. */
export type PortRanges = ReadonlyArray<readonly [number, number]>;

export function isPortNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Returns the merged ranges, or pushes every problem (prefixed with `field`) to `problems`. */
export function compilePorts(field: string, specs: unknown, problems: string[]): PortRanges {
  if (!Array.isArray(specs)) {
    problems.push(`${field}: expected an array of ports and [low, high] ranges`);
    return [];
  }
  if (specs.length === 0) {
    // An empty allow list would refuse every port: almost surely a mistake, so say so.
    problems.push(`${field}: is empty (omit it instead)`);
    return [];
  }
  const ranges: Array<[number, number]> = [];
  specs.forEach((spec: unknown, i) => {
    const where = `${field}[${i}]`;
    if (isPortNumber(spec)) {
      ranges.push([spec, spec]);
    } else if (
      Array.isArray(spec) &&
      spec.length === 2 &&
      isPortNumber(spec[0]) &&
      isPortNumber(spec[1])
    ) {
      if (spec[0] > spec[1]) problems.push(`${where}: range [${spec[0]}, ${spec[1]}] is backwards`);
      else ranges.push([spec[0], spec[1]]);
    } else {
      problems.push(
        `${where}: expected a port 1-65535 or a [low, high] range, got ${JSON.stringify(spec)}`,
      );
    }
  });
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return Object.freeze(merged.map((r) => Object.freeze(r)));
}

export function portsContain(ranges: PortRanges, port: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid] as readonly [number, number];
    if (port < r[0]) hi = mid - 1;
    else if (port > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}
