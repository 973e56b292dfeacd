// Fitting the cosine → Score map from labelled pairs, by counting, not by modelling a tail.
//
// Tencent's 3.0 Score promises a false-accept rate per Score: 20 = 1e-1, 30 = 1e-2, 40 = 1e-3,
// 50 = 1e-4, 60 = 1e-5 (10 points per decade). For each of those targets f and each impostor
// population of n pairs, the anchor cosine is the lowest threshold t at which the one-sided 95%
// Clopper–Pearson upper bound on FAR(t) = k(t)/n is still ≤ f (k(t) = impostor pairs scoring ≥ t).
// So the promise holds with 95% confidence on that population, not just on average.
// The anchor is the highest such t over the pooled population and every single population
// that can support f on its own: the hardest set present decides (a false accept costs more
// than a false reject).
// A population of n pairs can show FAR f only if its bound at k = 0 (≈ 3/n, the rule of three)
// is ≤ f. Where no population can, the anchor is placed beyond the last supported one by the
// widest cosine step per decade seen among the supported ones. Real impostor tails (bounded
// cosines, roughly Gaussian) narrow per decade, so a constant step overstates the cosine needed:
// such anchors are conservative guesses and the report marks them `extrapolated`.

export const FAR_TARGETS: { score: number; far: number }[] = [
  { score: 20, far: 1e-1 }, { score: 30, far: 1e-2 }, { score: 40, far: 1e-3 }, { score: 50, far: 1e-4 },
  { score: 60, far: 1e-5 }, { score: 70, far: 1e-6 }, { score: 80, far: 1e-7 },
];
const CONFIDENCE = 0.95;

function logGamma(x: number): number {
  // Lanczos (g = 7, n = 9), |error| < 1e-13 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X ≤ k) for X ~ Binomial(n, p): the k-th term in logs, the rest by the term ratio downward. */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  const logTermK = logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  const r = (1 - p) / p;
  let term = 1, sum = 1;
  for (let i = k; i > 0; i--) {
    term *= (i / (n - i + 1)) * r;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logTermK + Math.log(sum)));
}

/** One-sided Clopper–Pearson upper bound on p after k successes in n trials. */
export function clopperPearsonUpper(k: number, n: number, confidence = CONFIDENCE): number {
  if (n <= 0) return 1;
  if (k >= n) return 1;
  const alpha = 1 - confidence;
  if (k === 0) return 1 - Math.pow(alpha, 1 / n); // closed form; ≈ 3/n at 95% (rule of three)
  let lo = k / n, hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(k, n, mid) > alpha) lo = mid; else hi = mid;
  }
  return hi;
}

export interface Population {
  name: string;
  /** Cosines of pairs of different people. */
  impostor: ArrayLike<number>;
  /** Cosines of pairs of the same person (may be empty). */
  genuine: ArrayLike<number>;
}

/** The lowest cosine threshold (accept ≥ t) whose FAR upper bound is ≤ far, or null if n is too small. */
export function supportedThreshold(sortedDesc: Float64Array, far: number, confidence = CONFIDENCE): number | null {
  const n = sortedDesc.length;
  if (clopperPearsonUpper(0, n, confidence) > far) return null;
  // Largest k with bound(k) ≤ far (bound grows with k), by doubling then bisection.
  let good = 0, bad = 1;
  while (bad < n && clopperPearsonUpper(bad, n, confidence) <= far) { good = bad; bad *= 2; }
  bad = Math.min(bad, n);
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    if (clopperPearsonUpper(mid, n, confidence) <= far) good = mid; else bad = mid;
  }
  // Accepting ≥ t must let at most `good` impostors through: t just above the (good+1)-th highest.
  const next = sortedDesc[good];
  return nextUp(next);
}

/** The smallest double above x (thresholds sit just above an impostor score). */
function nextUp(x: number): number {
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  if (x === 0) return Number.MIN_VALUE;
  u[0] += x > 0 ? 1n : -1n;
  return b[0];
}

export interface AnchorFit {
  score: number;
  far: number;
  cosine: number;
  /** Which population set the anchor ('pooled', a population's name, or 'extrapolated'). */
  setBy: string;
}

export interface CalibrationFit {
  anchors: [number, number][];
  fits: AnchorFit[];
  pooledImpostorPairs: number;
}

const sortDesc = (v: ArrayLike<number>) => Float64Array.from(v).sort().reverse();

export function fitAnchors(pops: Population[], confidence = CONFIDENCE): CalibrationFit {
  const pooled = sortDesc(pops.flatMap((p) => Array.from(p.impostor)));
  if (pooled.length < 100) throw new Error(`need at least 100 impostor pairs to fit a calibration, got ${pooled.length}`);
  const each = pops.map((p) => ({ name: p.name, s: sortDesc(p.impostor) }));
  const fits: AnchorFit[] = [];
  for (const { score, far } of FAR_TARGETS) {
    let best: AnchorFit | null = null;
    for (const cand of [{ name: 'pooled', s: pooled }, ...each]) {
      const t = supportedThreshold(cand.s, far, confidence);
      if (t !== null && (!best || t > best.cosine)) best = { score, far, cosine: t, setBy: cand.name };
    }
    if (best) fits.push(best);
    else {
      const known = fits.filter((f) => f.setBy !== 'extrapolated' && f.far <= 1e-2);
      const steps = known.slice(1).map((f, i) => f.cosine - known[i].cosine);
      const prev = fits[fits.length - 1];
      const step = Math.max(0.02, ...steps);
      fits.push({ score, far, cosine: prev.cosine + step, setBy: 'extrapolated' });
    }
  }
  // Keep the map strictly increasing and inside (-1, 1): a later anchor never sits below an
  // earlier one, and anchors past 0.99 are squeezed toward 1 (100 stays at cosine 1).
  for (let i = 1; i < fits.length; i++) if (fits[i].cosine <= fits[i - 1].cosine) fits[i].cosine = fits[i - 1].cosine + 1e-4;
  for (let i = 0; i < fits.length; i++) {
    const cap = 1 - (fits.length - i) * 1e-3;
    if (fits[i].cosine > cap) fits[i].cosine = cap;
  }
  const median = pooled[Math.floor(pooled.length / 2)];
  const anchors: [number, number][] = [[-1, 0]];
  if (median < fits[0].cosine) anchors.push([median, 10]);
  for (const f of fits) anchors.push([f.cosine, f.score]);
  anchors.push([1, 100]);
  return { anchors, fits, pooledImpostorPairs: pooled.length };
}

export interface ScoreRow {
  score: number;
  far: number;
  /** Impostor pairs at or above the Score. */
  falseAccepts: number;
  empiricalFar: number;
  /** One-sided 95% Clopper–Pearson upper bound on FAR. */
  farUpper95: number;
  tar: number | null;
}

export interface PopulationReport {
  name: string;
  impostorPairs: number;
  genuinePairs: number;
  rows: ScoreRow[];
}

/** FAR (with its bound) and TAR at each Score, per population, under a given score map. */
export function reportPopulations(pops: Population[], score: (cos: number) => number, scores = [40, 50, 60], confidence = CONFIDENCE): PopulationReport[] {
  const all: Population = { name: 'pooled', impostor: pops.flatMap((p) => Array.from(p.impostor)), genuine: pops.flatMap((p) => Array.from(p.genuine)) };
  return [...pops, all].map((p) => {
    const imp = Array.from(p.impostor).map(score), gen = Array.from(p.genuine).map(score);
    return {
      name: p.name, impostorPairs: imp.length, genuinePairs: gen.length,
      rows: scores.map((s) => {
        const k = imp.filter((x) => x >= s).length;
        return {
          score: s, far: FAR_TARGETS.find((t) => t.score === s)?.far ?? NaN,
          falseAccepts: k, empiricalFar: imp.length ? k / imp.length : NaN, farUpper95: clopperPearsonUpper(k, imp.length, confidence),
          tar: gen.length ? gen.filter((x) => x >= s).length / gen.length : null,
        };
      }),
    };
  });
}

/** The report as a plain-text table (the CLI and the bench print it; docs/MODELS.md quotes it). */
export function formatReport(reports: PopulationReport[]): string {
  const lines = ['| population | impostor pairs | genuine pairs | Score | target FAR | false accepts | FAR | FAR 95% upper | TAR |', '|---|---|---|---|---|---|---|---|---|'];
  const pct = (x: number) => (x === 0 ? '0' : x < 1e-4 ? x.toExponential(1) : `${(x * 100).toFixed(x < 1e-3 ? 3 : 2)}%`);
  for (const r of reports) {
    for (const row of r.rows) {
      lines.push(`| ${r.name} | ${r.impostorPairs} | ${r.genuinePairs} | ${row.score} | ${pct(row.far)} | ${row.falseAccepts} | ${pct(row.empiricalFar)} | ${pct(row.farUpper95)} | ${row.tar === null ? '–' : `${(row.tar * 100).toFixed(1)}%`} |`);
    }
  }
  return lines.join('\n');
}

export interface LabelledEmbedding { id: string; embedding: Float32Array }

const dot = (a: Float32Array, b: Float32Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/** Every pair within one labelled set: same id = genuine, different id = impostor. */
export function pairsWithin(items: LabelledEmbedding[]): { genuine: number[]; impostor: number[] } {
  const genuine: number[] = [], impostor: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) (items[i].id === items[j].id ? genuine : impostor).push(dot(items[i].embedding, items[j].embedding));
  }
  return { genuine, impostor };
}

/** Every pair across two sets known to hold different people: all impostors. */
export function pairsAcross(a: LabelledEmbedding[], b: LabelledEmbedding[]): number[] {
  const out: number[] = [];
  for (const x of a) for (const y of b) out.push(dot(x.embedding, y.embedding));
  return out;
}
