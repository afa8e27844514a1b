/**
 * Chi-square tests for the draw tests: the statistic, and its p-value from the regularised
 * upper incomplete gamma function Q(df/2, x/2) (series below a+1, continued fraction above),
 * accurate to ~1e-12, far finer than the false-alarm rates used.
 */

function logGamma(x: number): number {
  // Lanczos approximation, g = 7, n = 9.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a). */
function upperGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const gln = logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - gln);
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - gln) * h;
}

export function chiSquarePValue(statistic: number, df: number): number {
  return upperGammaQ(df / 2, statistic / 2);
}

export interface ChiSquare {
  readonly statistic: number;
  readonly df: number;
  readonly p: number;
}

/** Goodness of fit of observed counts to expected probabilities (summing to 1). */
export function chiSquare(
  observed: readonly number[],
  probabilities: readonly number[],
): ChiSquare {
  const n = observed.reduce((a, b) => a + b, 0);
  let statistic = 0;
  observed.forEach((o, i) => {
    const e = n * (probabilities[i] as number);
    statistic += ((o - e) * (o - e)) / e;
  });
  const df = observed.length - 1;
  return { statistic, df, p: chiSquarePValue(statistic, df) };
}

/**
 * Serial test: consecutive pairs (x[i], x[i+1]) of bucket labels against the product of the
 * buckets' probabilities, i.e. "the next draw does not depend on the last one". Pairs do not
 * overlap (0-1, 2-3, ...), so the cells are counts of independent trials.
 */
export function serialChiSquare(
  labels: readonly number[],
  probabilities: readonly number[],
): ChiSquare {
  const k = probabilities.length;
  const counts = new Array<number>(k * k).fill(0);
  for (let i = 0; i + 1 < labels.length; i += 2) {
    counts[(labels[i] as number) * k + (labels[i + 1] as number)]! += 1;
  }
  const joint: number[] = [];
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      joint.push((probabilities[a] as number) * (probabilities[b] as number));
  return chiSquare(counts, joint);
}
