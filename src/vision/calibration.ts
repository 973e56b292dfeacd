// Cosine similarity -> Tencent's 0-100 similarity Score. Tencent (FaceModelVersion 3.0)
// documents its Score by false-accept rate: 40 ≈ FAR 0.1%, 50 ≈ 0.01%, 60 ≈ 0.001%. We fit the
// impostor cosine distribution and place those anchors at the cosines where the fitted tail
// reaches those FARs; between anchors the map is linear, 10 points per decade of FAR.
//
// Fit (docs/MODELS.md "Calibration"): impostor cosines from all cross-identity pairs of the
// test photos; mean μ; tail spread σ from the upper half only (x > μ), since only the right tail
// matters and a heavier right tail must not be averaged away by the left; Gaussian tail
// cos(FAR) = μ + σ·Φ⁻¹(1 − FAR). With ~1,500 impostor pairs FAR below ~1e-3 is extrapolated,
// not observed: the 50 and 60 anchors are model-based estimates.

export interface Calibration {
  /** Where the constants come from, for docs and /readyz-style introspection. */
  source: string;
  impostorMean: number;
  impostorTailSd: number;
  /** [cosine, score] anchors, strictly increasing in both. */
  anchors: [number, number][];
}

/** Φ⁻¹ (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new RangeError('p must be in (0, 1)');
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** FAR decades and the Score Tencent gives them; 10 points per decade. */
export const FAR_SCORES: [number, number][] = [[1e-1, 20], [1e-2, 30], [1e-3, 40], [1e-4, 50], [1e-5, 60], [1e-6, 70], [1e-7, 80]];

export function fitCalibration(impostorCosines: number[], source: string): Calibration {
  if (impostorCosines.length < 50) throw new Error('need at least 50 impostor pairs to fit a calibration');
  const n = impostorCosines.length;
  const mean = impostorCosines.reduce((s, x) => s + x, 0) / n;
  const upper = impostorCosines.filter((x) => x > mean);
  const sd = Math.sqrt(upper.reduce((s, x) => s + (x - mean) ** 2, 0) / upper.length);
  return calibrationFrom(mean, sd, source);
}

export function calibrationFrom(mean: number, sd: number, source: string): Calibration {
  const anchors: [number, number][] = [[-1, 0], [mean, 10]];
  for (const [far, score] of FAR_SCORES) anchors.push([mean + sd * normalQuantile(1 - far), score]);
  anchors.push([1, 100]);
  for (let i = 1; i < anchors.length; i++) {
    if (!(anchors[i][0] > anchors[i - 1][0])) throw new Error(`calibration anchors not increasing at ${i}: ${JSON.stringify(anchors)}`);
  }
  return { source, impostorMean: mean, impostorTailSd: sd, anchors };
}

/**
 * Default for FaceModelVersion 3.0 (faceplugin fr_feature), fitted by `npm run bench -- accuracy`
 * on 57 photos / 1,482 impostor pairs of /work/shared/testdata/faces/identities.
 */
export const CALIBRATION_3_0: Calibration = calibrationFrom(-0.006703, 0.096465,
  'fr_feature 3.0: Gaussian upper-tail fit to 1,482 impostor pairs (57 photos, 13 people), bench/accuracy.ts');

function interp(x: number, pts: [number, number][], from: 0 | 1): number {
  const to = from === 0 ? 1 : 0;
  if (x <= pts[0][from]) return pts[0][to];
  for (let i = 1; i < pts.length; i++) {
    if (x <= pts[i][from]) {
      const [a, b] = [pts[i - 1], pts[i]];
      return a[to] + ((x - a[from]) / (b[from] - a[from])) * (b[to] - a[to]);
    }
  }
  return pts[pts.length - 1][to];
}

/** Tencent Score (0-100) for a cosine similarity. */
export function cosineToScore(cos: number, cal: Calibration = CALIBRATION_3_0): number {
  return interp(Math.max(-1, Math.min(1, cos)), cal.anchors, 0);
}

/** The cosine at which a Score is reached (thresholds for search / verification). */
export function scoreToCosine(score: number, cal: Calibration = CALIBRATION_3_0): number {
  return interp(Math.max(0, Math.min(100, score)), cal.anchors, 1);
}

/** The same map as an object (the library's ScoreScale). */
export const scoreScale = (cal: Calibration = CALIBRATION_3_0) => ({
  score: (cos: number) => cosineToScore(cos, cal),
  cosine: (score: number) => scoreToCosine(score, cal),
});

/**
 * DetectFaceSimilarity's scale: Tencent fixes its "same person" threshold at 70 = FAR 1e-4,
 * i.e. the CompareFace scale shifted by 20 points (60 = 1e-3, 80 = 1e-5), same fit.
 */
export function similarityAnchors(cal: Calibration = CALIBRATION_3_0): [number, number][] {
  const m = cal.impostorMean, sd = cal.impostorTailSd;
  const pts: [number, number][] = [[-1, 0], [m, 20]];
  for (const [far, score] of [[1e-1, 40], [1e-2, 50], [1e-3, 60], [1e-4, 70], [1e-5, 80], [1e-6, 90]] as const) pts.push([m + sd * normalQuantile(1 - far), score]);
  pts.push([1, 100]);
  return pts;
}

export function cosineToSimilarityScore(cos: number, cal: Calibration = CALIBRATION_3_0): number {
  return interp(Math.max(-1, Math.min(1, cos)), similarityAnchors(cal), 0);
}
