// Cosine similarity -> Tencent's 0-100 similarity Score. Tencent (FaceModelVersion 3.0)
// documents its Score by false-accept rate: 40 ≈ FAR 0.1%, 50 ≈ 0.01%, 60 ≈ 0.001%. The map is
// piecewise-linear between anchors [cosine, Score]; the anchors come from counting impostor
// pairs with a 95% upper confidence bound on FAR (calibration-fit.ts, docs/MODELS.md
// "Calibration"), not from a modelled tail. An operator can refit on their own photos
// (`facevault calibrate`); the active fit is read from the data dir at start.

export interface Calibration {
  /** FaceModelVersion the fit belongs to. */
  modelVersion: string;
  /** Where the anchors come from (shown by `facevault calibrate` and in docs). */
  source: string;
  /** [cosine, score] anchors, strictly increasing in both, from [-1, 0] to [1, 100]. */
  anchors: [number, number][];
}

/**
 * Default for FaceModelVersion 3.0 (faceplugin fr_feature), fitted by `npm run bench -- calibration`
 * on 33,702 impostor pairs (identities, yale, crowd photos, cross-set) of the shared test data,
 * one-face photos embedded the way CompareFace takes them (singleFace).
 * 40 is set by yale (hard lighting), 50 by the pooled pairs (no impostor reaches it; 95% bound
 * 8.9e-5); 60 and above cannot be shown by 33,702 pairs and are placed conservatively beyond 50.
 */
export const CALIBRATION_3_0: Calibration = {
  modelVersion: '3.0',
  source: 'fr_feature 3.0: Clopper-Pearson 95% fit to 33,702 impostor pairs of the shared test data (bench/calibration.ts)',
  anchors: [[-1, 0], [0.0121, 10], [0.2325, 20], [0.2545, 30], [0.3393, 40], [0.4279, 50], [0.5164, 60], [0.6049, 70], [0.6935, 80], [1, 100]],
};

/** Checks a calibration read from a file; throws naming what is wrong. */
export function parseCalibration(v: unknown): Calibration {
  const o = v as Partial<Calibration> | null;
  if (!o || typeof o !== 'object') throw new Error('calibration: not an object');
  if (typeof o.modelVersion !== 'string' || typeof o.source !== 'string') throw new Error('calibration: modelVersion and source must be strings');
  const a = o.anchors;
  if (!Array.isArray(a) || a.length < 3 || !a.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw new Error('calibration: anchors must be [cosine, score] number pairs');
  }
  if (a[0][0] !== -1 || a[0][1] !== 0 || a[a.length - 1][0] !== 1 || a[a.length - 1][1] !== 100) throw new Error('calibration: anchors must run from [-1, 0] to [1, 100]');
  for (let i = 1; i < a.length; i++) {
    if (!(a[i][0] > a[i - 1][0] && a[i][1] > a[i - 1][1])) throw new Error(`calibration: anchors not increasing at ${i}`);
  }
  for (const s of [40, 50, 60]) if (!a.some((p) => p[1] === s)) throw new Error(`calibration: no anchor for Score ${s}`);
  return { modelVersion: o.modelVersion, source: o.source, anchors: a as [number, number][] };
}

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
 * i.e. the CompareFace scale shifted by 20 points (60 = 1e-3, 80 = 1e-5), same anchors.
 */
export function similarityAnchors(cal: Calibration = CALIBRATION_3_0): [number, number][] {
  const pts: [number, number][] = [[-1, 0]];
  for (const [c, s] of cal.anchors) {
    if (s === 10) pts.push([c, 20]);
    else if (s >= 20 && s <= 70) pts.push([c, s + 20]);
  }
  pts.push([1, 100]);
  return pts;
}

export function cosineToSimilarityScore(cos: number, cal: Calibration = CALIBRATION_3_0): number {
  return interp(Math.max(-1, Math.min(1, cos)), similarityAnchors(cal), 0);
}

/** Both Tencent scales from one calibration, as the recognition service uses them. */
export interface ScoreScales {
  calibration: Calibration;
  compare(cos: number): number;
  similarity(cos: number): number;
}
export const scoreScales = (cal: Calibration = CALIBRATION_3_0): ScoreScales => ({
  calibration: cal,
  compare: (cos) => cosineToScore(cos, cal),
  similarity: (cos) => cosineToSimilarityScore(cos, cal),
});
