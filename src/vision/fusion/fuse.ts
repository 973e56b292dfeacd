// Classical face fusion of one or more faces into a template window: dense-mesh
// piecewise-affine warp (shape), colour transfer to the template's skin, cross-dissolve of
// inner features (appearance), multi-band blend over a feathered mask (no seam).
import Delaunator from 'delaunator';
import { applySim, bounds, concat, faceSize, invertSim, lerpPts, ring, umeyama, MESH_POINTS, type Pts } from './geometry.ts';
import { warpPiecewise, type Raster, type WarpSource } from './warp.ts';
import { blur, blurBox, fillPolygon } from './raster.ts';
import { facialHair, localColourTransfer } from './colour.ts';
import { multibandDelta } from './blend.ts';
import { posedUserMesh, poseProblem, type Pose } from './pose.ts';
import { holdMargin, holdOutline } from './outline-hold.ts';
import { templateFarSide, towardsTemplate, triangleVisibility, unfoldMesh, userShare, YAW_FROM } from './visibility.ts';
import { yawOf2d } from '../mesh/yaw-2d.ts';
import { occlusionMask, templateOccluders } from './occlusion.ts';
import { pictureArea, type Area } from './frame-border.ts';
import { fillUnder, occluderInPlace, OCCLUDER_FILL_SIGMA } from './occluder-fill.ts';
import { withoutGlasses } from './user-glasses.ts';
import { userRimWeight } from './rim.ts';
import { headPoseFromMesh } from '../mesh/head-pose.ts';
import { ghostMask, regionTarget, type RegionDegrees } from './regions.ts';
import { colourGain, templateSkinColour, type Rgb } from './shot-colour.ts';

export interface FuseFaceJob {
  /** Template mesh (≥468 points, x/y interleaved) in template-frame coordinates. */
  templateMesh: ArrayLike<number>;
  user: Raster;
  /** User mesh in `user` coordinates. */
  userMesh: ArrayLike<number>;
  /** 0 = the user's face shape, 1 = the template's. */
  profile: number;
  /** 0 = the user's inner features, 1 = the template's. */
  appearance: number;
  /** Detail gain of the pasted face, -1 (smooth skin) .. 1 (sharpen); 0 = as is. */
  detail?: number;
  /** Depth of each template / user mesh point (Face.meshZ). With both, the user's face is turned into the template's head pose. */
  templateMeshZ?: ArrayLike<number>;
  userMeshZ?: ArrayLike<number>;
  /** The user's own occluders (fringe, glasses frames, beard): 'drop' (default) shows the template's face there; 'keep' carries them over. */
  userOccluders?: 'drop' | 'keep';
  /** The user's identity embedding; with a swap model installed (FACEVAULT_SWAP_MODEL) the swapped crop replaces the user's photo. */
  userEmbedding?: Float32Array;
  /** Which of the pose-aware passes run (defaults: DEFAULT_TUNING). */
  tuning?: Partial<FusionTuning>;
  /** The template's mouth and eye movement on the user's lips and eyes, apart from `profile` (regions.ts); with it the template's pixels fill the openings the user's photo would stretch. */
  regions?: RegionDegrees;
  /**
   * The template's picture inside its own border, when the caller knows it better than this one
   * frame can tell (a video's letterbox bars, found over the whole clip: video/letterbox.ts);
   * default: found on the template (frame-border.ts pictureArea). The first job's counts.
   */
  picture?: Area;
  /** The template's skin colour to match instead of this frame's (templateSkinColour of a shot's reference frame; shot-colour.ts). */
  colourReference?: Rgb;
}

/**
 * The engine's optional passes. Each was measured against the plain engine on the
 * fusion-quality panel (docs/PERFORMANCE.md); one that did not beat it stays off by default.
 */
export interface FusionTuning {
  /** Turn the user's face into the template's head pose (3D similarity of the meshes) instead of a 2D similarity. */
  pose: boolean;
  /** Keep the template's face where the user's photo shows a triangle edge-on or from behind; 'turned': only for a template turned at least YAW_FROM (the far side's gate), by its depth mesh or else yawOf2d. */
  visibility: boolean | 'turned';
  /**
   * Keep the template's occluders (hands, microphones, hair) / also drop the user's (fringe,
   * glasses frames) always ('both') / drop the user's only where the degree asks for the
   * template's look ('auto': FuseFaceDegree ≥ USER_LOOK_BELOW × 100).
   */
  occlusion: 'off' | 'template' | 'both' | 'auto';
  /** Compress how far the user's aligned mesh may move from the template's (see capShift); off = the user's outline as is. */
  shapeCap: boolean;
  /** Keep a turned template's far side (its triangles foreshortened against the user's aligned mesh) as the template's: geometry and texture (visibility.ts templateFarSide). */
  farSide: boolean;
  /**
   * Paint the user's glasses frames out of the user's photo before the warp (user-glasses.ts),
   * unless the job keeps the user's occluders: always (true), never (false), or only where the
   * degree asks for the template's look ('auto', as `occlusion`).
   */
  userGlasses: boolean | 'auto';
  /** The user's face up to its own outline and nothing beyond it (OUTLINE); off = the older mask, half-way at 0.95 of the outline with a wide feather (OUTLINE_BEFORE). */
  userOutline: boolean;
  /** On the rim of the user's face (outside 0.92 of the outline), keep the template's pixels where the user's photo shows background, not skin (rim.ts). */
  userRim: boolean;
  /** Mend the template warp's folds: points of triangles the template shows flipped or squeezed (a turned template's far rim) moved towards the template's own (visibility.ts unfoldMesh). */
  unfold: boolean;
  /** Leave the template's facial hair over the user's bare skin out of the colour transfer's samples (colour.ts facialHair); off = its beard darkened the user's chin into a blue-grey band. */
  hairColour: boolean;
  /** The template's occluders composited over the blend afterwards, the user's difference filled in under them from around (occluder-fill.ts); off = a hole in the blend's mask, whose coarse bands pulled the whole face near it to the template's tone. */
  occluderFill: boolean;
  /** The template's occluders put back where the template has them, not where its warp onto the fused face moves them (occluder-fill.ts occluderInPlace); needs occluderFill. */
  occluderInPlace: boolean;
  /** Keep the fused outline within HOLD_MARGIN of the template's head outline, the outer face compressed radially (outline-hold.ts); off = the user's outline may push past the template's onto its ears, collar or background. */
  outlineHold: boolean | number;
}
// Measured on the fusion-quality panel (docs/PERFORMANCE.md), each against the plain engine:
// the 3D pose warp cost identity on turned and sheared templates (Score p10 71 → 37); dropping the
// user's occluders cost it on plain photos (p10 80 → 75); keeping the template's occluders keeps
// them (change under them 58.6 → 44.7 with the inner-face-only mask) but still costs identity
// (≥ 50: 114 → 110 of 121) and misses skin-coloured hands, so it is off by default. The shape
// cap removed the holes of templates and users turned different ways at no identity cost on
// the panel (≥ 50: 114/121 either way, p10 55.9 → 54.8), so it is on. Visibility changes nothing unless the pose warp
// is on (and costs nothing then). The far side of a turned template removed its torn pieces
// (stuart5) and changed nothing on like poses. Painting the user's glasses out cost identity
// against the user's other photo on every glasses pair (bernadette1, leonard1: 24 of 26 pairs
// lower, by up to 11; ≥ 50: 20 → 16 of 26), so it is an option (userGlasses) and off. The
// user's face up to its own outline raised the user's Score on most pairs and carried less of
// the user's background into the jaw (userOutline, docs/PERFORMANCE.md, 2026-12-02 09:35).
// Warping the template onto the fused mesh with its folds mended (unfold) removed the torn far
// rims of templates turned 13–21° at no identity cost (docs/PERFORMANCE.md, 2026-12-02 afternoon).
// Leaving the template's facial hair out of the colour samples (hairColour) took the beard band
// off bearded templates' pairs at no identity cost on the every-3rd panel pairs (≥ 50: 71/81
// either way; every 2nd 116 → 115, one pair 50.8 → 49.8). Template occlusion now finds the
// pasted skin-coloured hand too, but keeping occluders in front hides the user's face under them
// (≥ 50 on the every-3rd pairs 71 → 65, all six on occluded templates). On the merged engine
// (2026-12-02 18:10) it changed no clean template's pair across 50 (56/65 either way, mean
// −0.31) and kept the occluders (change under them 64.8 → 30.7); the occluded templates' lower
// Scores are the occluder hiding the user's face, which is what issue 16 asks for ("whatever
// covers the template's face stays in front"), so it is on. The user's own occluders (fringe,
// glasses frames) are "not carried over unless the degree asks for the user's look" (issue 16
// item 2): below FuseFaceDegree 50 the user's features are asked for and they stay (that is also
// what keeps the identity Score up, above); from 50 the template's features are, and they are
// dropped ('auto'; no panel pair changes: the panel fuses at degree 0). Putting the template's
// occluders back over the blend (occluderFill) instead of cutting them out of its mask raised the
// every-3rd panel pairs' Score ≥ 50 64 → 65 of 81 and kept the occluders nearer the template
// (change under them, median 21.6 → 19.8; docs/PERFORMANCE.md 2026-12-03), so it is on. Putting
// them back where the template has them (occluderInPlace), not where its warp onto the fused face
// moved them, kept them nearer still (19.8 → 12.3) and raised the occluded pairs' Score by 3.4 on
// average (≥ 50 65 → 64: one pair 51.3 → 47.5), so it is on too. The visibility pass on frontal
// templates pulled the template's temple hair into the cheek of a turned user's far side (hole
// blobs on the full quick panel 8 → 1 of 242 with it gated to templates turned ≥ 25°, Score ≥ 50
// 205 → 206, turned templates unchanged), so it is 'turned'.
// Holding the fused outline inside the template's (outlineHold, margin 0.04) removed the panel's
// hole pair and one tear pair but lowered Score ≥ 50 220 → 216 of 244 (turned templates −3.1 on
// average: their far cheek is where a frontal user's outline lies past theirs), so it is off.
export const DEFAULT_TUNING: FusionTuning = { pose: false, visibility: 'turned', occlusion: 'auto', shapeCap: true, farSide: true, userGlasses: 'auto', userOutline: true, userRim: true, unfold: true, hairColour: true, occluderFill: true, occluderInPlace: true, outlineHold: false };
const tuningOf = (j: FuseFaceJob): FusionTuning => ({ ...DEFAULT_TUNING, ...j.tuning });
/** Below this FuseFaceDegree (÷ 100) the job asks for the user's features: the user's fringe and glasses are part of them. */
export const USER_LOOK_BELOW = 0.5;
/** Whether a pass set to true / false / 'auto' drops the user's occluders at features degree f. */
const dropsUsers = (mode: boolean | 'auto', f: number) => mode === true || (mode === 'auto' && f >= USER_LOOK_BELOW);

export interface Patch {
  x: number; y: number; width: number; height: number; data: Uint8Array;
  /** Indices of jobs left untouched because a head pose was outside the supported range (poseOf/poseProblem). */
  skipped?: number[];
}

/** Head pose of a mesh with depth (degrees), as the pose rule uses it. */
export function poseOf(mesh: ArrayLike<number>, z: ArrayLike<number>): Pose {
  const pts = Array.from({ length: MESH_POINTS }, (_, i) => ({ x: mesh[2 * i], y: mesh[2 * i + 1] }));
  return headPoseFromMesh(pts, Array.from(z).slice(0, MESH_POINTS));
}

/** Why a job cannot be fused (a head pose outside the supported range), or null. */
export function jobProblem(j: FuseFaceJob): string | null {
  if (j.templateMeshZ) { const p = poseProblem(poseOf(j.templateMesh, j.templateMeshZ)); if (p) return `template face: ${p}`; }
  if (j.userMeshZ) { const p = poseProblem(poseOf(j.userMesh, j.userMeshZ)); if (p) return `user face: ${p}`; }
  return null;
}

const RING_BLEND = 1.25; // follows the face; gives the blend room
const RING_PIN = 1.7; // the template's, fixed: nothing moves beyond it
/**
 * Where the user's face is pasted, in rings of the fused outline (1 = the mesh's face oval) and
 * face sizes: `mask` is where the feathered mask is half, `feather` its blur, `source` where the
 * user's pixels stop being used at all (colour transfer and blend). The old mask (half at 0.95,
 * blur 0.04) was full only inside ≈ 0.8 of the outline — the cheeks' edges, the jaw and the top
 * of the forehead were half the template's (its beard shadow, its jaw line), which cost the
 * user's identity — and still ≈ 0.15 at 1.03, where the user's photo shows its background
 * (a blue curtain, a grey backdrop) as a tinted halo along the jaw. Now the user's face is full
 * to ≈ 0.96 and nothing of the photo is used past 1.03; the multi-band blend still spreads the
 * low frequencies (the seam) over its coarse levels.
 */
const OUTLINE = { mask: 0.99, feather: 0.015, source: 1.03 };
const OUTLINE_BEFORE = { mask: 0.95, feather: 0.04, source: 1.1 };
const SKIN_SCALE = 0.85;
/** Inside this ring of the fused outline the user's pixels are the user's face; outside it, up to OUTLINE.source, they may be the photo's background (rim.ts). */
const RIM_FROM = 0.92, RIM_SKIN = 0.75;
const COLOUR_PRIOR = 0.1;

function meshOf(a: ArrayLike<number>): Pts {
  const out = new Float64Array(MESH_POINTS * 2);
  for (let i = 0; i < MESH_POINTS * 2; i++) out[i] = a[i];
  return out;
}

/** The window of the template a face job can change (its pinned outer ring's bounds). */
export function jobWindow(templateMesh: ArrayLike<number>, frameW: number, frameH: number): { x0: number; y0: number; x1: number; y1: number } {
  const b = bounds(ring(meshOf(templateMesh), RING_PIN));
  // The blend ring follows the user's shape and may reach past the pin ring on a much wider face; pad.
  const pad = 0.1 * (b.x1 - b.x0) + 2;
  return {
    x0: Math.max(0, Math.floor(b.x0 - pad)), y0: Math.max(0, Math.floor(b.y0 - pad)),
    x1: Math.min(frameW, Math.ceil(b.x1 + pad)), y1: Math.min(frameH, Math.ceil(b.y1 + pad)),
  };
}

/**
 * Fuses every job into a copy of the template's union window and returns that window.
 * Jobs run one after the other on the same window, so overlapping faces compose.
 */
export function fuseIntoTemplate(template: Raster, jobs: FuseFaceJob[], timings?: Record<string, number>): Patch {
  const clock = stopwatch(timings);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const j of jobs) {
    const w = jobWindow(j.templateMesh, template.width, template.height);
    x0 = Math.min(x0, w.x0); y0 = Math.min(y0, w.y0); x1 = Math.max(x1, w.x1); y1 = Math.max(y1, w.y1);
  }
  const W = x1 - x0, H = y1 - y0;
  const C = template.channels ?? 3;
  const data = new Uint8Array(W * H * 3);
  const src = bytesOf(template.data);
  for (let y = 0; y < H; y++) {
    if (C === 3) { data.set(src.subarray(((y + y0) * template.width + x0) * 3, ((y + y0) * template.width + x1) * 3), y * W * 3); continue; }
    for (let x = 0; x < W; x++) {
      const s = ((y + y0) * template.width + (x + x0)) * C, d = (y * W + x) * 3;
      data[d] = src[s]; data[d + 1] = src[s + 1]; data[d + 2] = src[s + 2];
    }
  }
  const patch: Patch = { x: x0, y: y0, width: W, height: H, data };
  // The picture inside the template's own border (a scanner's dark row, letterbox bars), in the
  // window: only the frame's edges the window reaches can matter (a window's own edge is mirrored).
  const given = sanePicture(jobs.find((j) => j.picture)?.picture, template.width, template.height);
  const pa = given ?? pictureArea(template, { top: y0 === 0, bottom: y1 === template.height, left: x0 === 0, right: x1 === template.width });
  const frame = { x0: Math.max(0, pa.x0 - x0), y0: Math.max(0, pa.y0 - y0), x1: Math.min(W, pa.x1 - x0), y1: Math.min(H, pa.y1 - y0) };
  clock('copy');
  // Beyond the supported pose a face is passed through untouched (the services refuse it first).
  const skipped: number[] = [];
  for (const [k, j] of jobs.entries()) {
    if (jobProblem(j)) { skipped.push(k); continue; }
    const mesh = meshOf(j.templateMesh);
    for (let i = 0; i < mesh.length; i += 2) { mesh[i] -= x0; mesh[i + 1] -= y0; }
    fuseOne({ width: W, height: H, data }, mesh, j, clock, frame);
  }
  if (skipped.length) patch.skipped = skipped;
  return patch;
}

/** The fused face's mesh in template coordinates (for measurements: mask boundary, seams). */
export function targetMesh(templateMesh: ArrayLike<number>, userMesh: ArrayLike<number>, profile: number): Pts {
  const t = meshOf(templateMesh), u = meshOf(userMesh);
  return lerpPts(capShift(applySim(umeyama(u, t), u), t), t, clamp01(profile));
}

// Like poses move the aligned user mesh ≤ ~0.05 face sizes from the template's; a head turned the
// other way moves its outline by 0.2–0.3 (the silhouette is another contour of the head), which
// dragged the template's background, ears and occluders into the face (holes, streaks). One cap
// for every point: a looser one for the inner points than for the outline (tried) let inner
// points near the cheek cross the capped outline and fold the mesh into streaks again.
const SHIFT_KNEE = 0.05, SHIFT_MAX = 0.1;

/**
 * The user's aligned mesh with each point's shift from the template's compressed beyond
 * SHIFT_KNEE face sizes towards at most SHIFT_MAX: like poses keep the user's shape as is, a
 * different pose keeps the template's outline within a small margin.
 */
export function capShift(u: Pts, t: Pts): Pts {
  const fs = faceSize(t), k = SHIFT_KNEE * fs, c = SHIFT_MAX * fs;
  const out = new Float64Array(u);
  for (let i = 0; i < MESH_POINTS * 2; i += 2) {
    const dx = u[i] - t[i], dy = u[i + 1] - t[i + 1], d = Math.hypot(dx, dy);
    if (d <= k) continue;
    const s = (k + (c - k) * Math.tanh((d - k) / (c - k))) / d;
    out[i] = t[i] + dx * s; out[i + 1] = t[i + 1] + dy * s;
  }
  return out;
}

/** The user's aligned mesh within the limits the tuning sets on its shift from the template's (capShift, then holdOutline). */
function limitShape(tune: FusionTuning, aligned: Pts, t: Pts): Pts {
  const capped = tune.shapeCap ? capShift(aligned, t) : aligned;
  return tune.outlineHold ? holdOutline(capped, t, holdMargin(tune.outlineHold)) : capped;
}

/** The fused face's mesh in template coordinates for a job, as fuseIntoTemplate builds it (pose-aware). */
export function fusedMesh(job: FuseFaceJob): Pts {
  const t = meshOf(job.templateMesh), u = meshOf(job.userMesh);
  const tune = tuningOf(job);
  const aligned = job.userMeshZ && job.templateMeshZ && tune.pose ? posedUserMesh(u, job.userMeshZ, t, job.templateMeshZ) : applySim(umeyama(u, t), u);
  const capped = limitShape(tune, aligned, t);
  const base = towardsTemplate(capped, t, clamp01(job.profile), farSideOf(tune, capped, t, job)?.shape ?? null);
  return job.regions ? regionTarget(base, t, job.regions) : base;
}

/** The mesh the template itself is warped onto for a job (the fused mesh, its folds mended: unfoldOf); the user's photo is warped onto fusedMesh. */
export function templateWarpMesh(job: FuseFaceJob): Pts {
  return unfoldOf(tuningOf(job), fusedMesh(job), meshOf(job.templateMesh));
}

/**
 * The fused mesh with the template warp's folds mended, as the tuning asks (the same mesh when
 * nothing folds). `tri`, when given, is the triangulation of the unmended warp mesh (P, its blend
 * ring, the template's pin ring), which unfoldMesh's first step would otherwise build again.
 */
function unfoldOf(tune: FusionTuning, P: Pts, t: Pts, tri?: Uint32Array): Pts {
  if (!tune.unfold) return P;
  let first = tri;
  return unfoldMesh(P, t, RING_BLEND, RING_PIN, (pts) => { const known = first; first = undefined; return known ?? new Delaunator(pts).triangles; });
}

/** Whether the per-triangle visibility is used: always, never, or ('turned') for a template turned at least YAW_FROM. */
function visibilityOn(tune: FusionTuning, job: FuseFaceJob): boolean {
  if (tune.visibility !== 'turned') return tune.visibility;
  const yaw = job.templateMeshZ ? Math.abs(poseOf(job.templateMesh, job.templateMeshZ).yaw) : yawOf2d(job.templateMesh);
  return yaw >= YAW_FROM;
}

/** The template's far side to keep (per mesh point), as the tuning asks; needs both faces' depth (the head turn between them). */
function farSideOf(tune: FusionTuning, aligned: Pts, t: Pts, job: FuseFaceJob) {
  if (!tune.farSide || !job.templateMeshZ || !job.userMeshZ) return null;
  const yawT = poseOf(job.templateMesh, job.templateMeshZ).yaw, yawU = poseOf(job.userMesh, job.userMeshZ).yaw;
  return templateFarSide(aligned, t, () => new Delaunator(aligned.subarray(0, 2 * MESH_POINTS)).triangles, yawT, yawU);
}

/** One face, in place on `canvas` (RGB), whose coordinates `tMesh` uses. */
function fuseOne(canvas: Raster, tMesh: Pts, job: FuseFaceJob, clock: (stage: string) => void = () => {}, frame: Area = { x0: 0, y0: 0, x1: canvas.width, y1: canvas.height }): void {
  const p = clamp01(job.profile), f = clamp01(job.appearance);
  const tune = tuningOf(job);
  const uMesh = meshOf(job.userMesh);
  const sim = umeyama(uMesh, tMesh);
  // With depth for both faces the user's face takes the template's head pose (3D similarity);
  // otherwise a 2D similarity, which is right only for like poses.
  const uPosed = job.userMeshZ && job.templateMeshZ && tune.pose ? posedUserMesh(uMesh, job.userMeshZ, tMesh, job.templateMeshZ) : applySim(sim, uMesh);
  const uAligned = limitShape(tune, uPosed, tMesh);
  const keepT = farSideOf(tune, uAligned, tMesh, job);
  const base = towardsTemplate(uAligned, tMesh, p, keepT?.shape ?? null);
  const P = job.regions ? regionTarget(base, tMesh, job.regions) : base;
  const tPin = ring(tMesh, RING_PIN);
  const target = concat(P, ring(P, RING_BLEND), tPin);
  const tSource = concat(tMesh, ring(tMesh, RING_BLEND), tPin);
  const uSource = concat(uMesh, ring(uMesh, RING_BLEND), applySim(invertSim(sim), tPin));

  const b = bounds(target);
  const ox = Math.max(0, Math.floor(b.x0) - 1), oy = Math.max(0, Math.floor(b.y0) - 1);
  const w = Math.min(canvas.width, Math.ceil(b.x1) + 2) - ox, h = Math.min(canvas.height, Math.ceil(b.y1) + 2) - oy;
  if (w < 4 || h < 4) return;

  const tri = new Delaunator(target).triangles;
  // The template is warped onto the fused mesh with its folds mended; the user's photo onto the
  // fused mesh itself (its shape, identity). The mending starts from this very triangulation.
  const Pt = unfoldOf(tune, P, tMesh, tri);
  // Only when some triangle is foreshortened in the user's photo (never on like poses) is the
  // per-pixel visibility raster built: it is a third of the warp's time.
  const triVisAll = visibilityOn(tune, job) ? triangleVisibility(target, uSource, tri, sim.a * sim.a + sim.b * sim.b) : keepT ? new Float32Array(tri.length / 3).fill(1) : undefined;
  if (triVisAll && keepT) { const share = userShare(tri, keepT.texture); for (let k = 0; k < share.length; k++) triVisAll[k] *= share[k]; }
  const triVis = triVisAll && triVisAll.some((v) => v < 0.999) ? triVisAll : undefined;
  clock('geometry');
  // The user's glasses frames are the user's occluders: not carried over unless the job keeps them.
  const userImg = dropsUsers(tune.userGlasses, f) && job.userOccluders !== 'keep' ? withoutGlasses(job.user, uMesh) ?? job.user : job.user;
  const { out: [Uw, Tw], valid: [validU], covered, value: vis } = warpUserTemplate(target, tri, Pt === P ? null : concat(Pt, ring(Pt, RING_BLEND), tPin), { img: userImg, pts: uSource, maxPoint: MESH_POINTS + 36 }, { img: canvas, pts: tSource, clampEdges: true, frame }, ox, oy, w, h, triVis);
  // Outside the triangulation the template stays as it is.
  const cv = bytesOf(canvas.data);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const q = y * w + x;
      if (covered[q]) continue;
      const s = ((y + oy) * canvas.width + (x + ox)) * 3;
      Tw[q * 3] = cv[s]; Tw[q * 3 + 1] = cv[s + 1]; Tw[q * 3 + 2] = cv[s + 2];
    }
  }

  clock('warp');
  const local = (pts: Pts) => { const o = new Float64Array(pts); for (let i = 0; i < o.length; i += 2) { o[i] -= ox; o[i + 1] -= oy; } return o; };
  const fs = faceSize(P);
  const outline = tune.userOutline ? OUTLINE : OUTLINE_BEFORE;
  const regionPoly = local(ring(P, outline.source)), skinPoly = local(ring(P, SKIN_SCALE));
  const region = fillPolygon(regionPoly, w, h);
  const skin = fillPolygon(skinPoly, w, h);
  // The pyramid only needs the window where the source differs, padded for the coarse bands.
  const rb = bounds(regionPoly);
  const pad = 48;
  const bx0 = Math.max(0, Math.floor(rb.x0) - pad), by0 = Math.max(0, Math.floor(rb.y0) - pad);
  const bw = Math.min(w, Math.ceil(rb.x1) + pad) - bx0, bh = Math.min(h, Math.ceil(rb.y1) + pad) - by0;
  const subMask = featheredPolygon(local(ring(P, outline.mask)), outline.feather * fs, bx0, by0, bw, bh);

  // Where the user's texture may be used: the user's photo shows the triangle (not its far side,
  // not edge-on), nothing covers the template's face there, and (by default) nothing covers the user's.
  const masks = usableMask(tune, vis, Tw, Uw, validU, local(P), region, skin, w, h, fs, rb, f, job.userOccluders);
  const { occT } = masks;
  let { use } = masks;
  // The user's background where the outline runs past the user's face edge (a white wall as a light line along the cheek).
  const rim = tune.userRim ? userRimWeight(Uw, validU, region, fillPolygon(local(ring(P, RIM_FROM)), w, h), fillPolygon(local(ring(P, RIM_SKIN)), w, h), w, h, rb, fs) : null;
  if (rim) { if (use) for (let q = 0; q < use.length; q++) use[q] *= rim[q]; else use = rim; }
  // Openings the user's photo shows narrower than the fused face (a closed mouth, the template
  // singing) keep the template's pixels: composited after the blend, whose coarse bands would
  // carry the lips' colour into an opening a few pixels tall.
  const ghost = job.regions && job.regions.ghost !== false ? ghostMask(local(P), local(applySim(sim, uMesh)), w, h) : null;
  clock('masks');
  // A greyscale template gets a greyscale face: the ratio transfer fixes only low-frequency colour.
  if (isGrey(Tw, covered)) toGrey(Uw);
  // The template's occluders are not its skin: a black bar or a microphone counted as skin
  // darkened the user's face around it (holes). The prior keeps cells with few samples left
  // (an occluder's edge) at the face's ratio instead of blowing up into white patches.
  if (f < 1) {
    // The template's beard over the user's bare chin is not the template's skin either (colour.ts facialHair).
    const hair = tune.hairColour ? facialHair(Tw, Uw, validU, local(P), skin, w, h, fs, bounds(skinPoly)) : null;
    const weight = occT || hair ? new Float32Array(w * h) : undefined;
    if (weight) for (let q = 0; q < weight.length; q++) weight[q] = (occT ? 1 - occT[q] : 1) * (hair ? 1 - hair[q] : 1);
    const gain = job.colourReference ? colourGain(job.colourReference, templateSkinColour(canvas, tMesh)) : undefined;
    localColourTransfer(Uw, Tw, skin, validU, region, w, h, 0.1 * fs, bounds(skinPoly), rb, undefined, undefined, { weight, prior: COLOUR_PRIOR, gain });
  }
  if (job.detail) adjustDetail(Uw, region, w, h, 0.008 * fs, job.detail);

  clock('colour');
  const subDelta = new Float32Array(bw * bh * 3);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const q = (y + by0) * w + x + bx0;
      if (region[q] <= 0 || !validU[q]) continue;
      const i = q * 3, o = (y * bw + x) * 3, k = use ? (1 - f) * use[q] : 1 - f;
      subDelta[o] = k * (Uw[i] - Tw[i]);
      subDelta[o + 1] = k * (Uw[i + 1] - Tw[i + 1]);
      subDelta[o + 2] = k * (Uw[i + 2] - Tw[i + 2]);
    }
  }
  if (use) for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) subMask[y * bw + x] *= use[(y + by0) * w + x + bx0];
  // Under the template's occluders the user's difference is filled in from around them, so the
  // blend's coarse bands see the face's tone continue; the occluder itself is put back below.
  // In place: the user's face under the warped occluder (the template's own is put back below).
  const inPlace = tune.occluderFill && tune.occluderInPlace && occT ? occluderInPlace(occT, local(concat(Pt, ring(Pt, RING_BLEND), tPin)), concat(tMesh, ring(tMesh, RING_BLEND), tPin), ox, oy, w, h) : null;
  const front = tune.occluderFill && !tune.occluderInPlace ? occT : null;
  if (front) fillUnder(subDelta, front, region, validU, w, bx0, by0, bw, bh, OCCLUDER_FILL_SIGMA * fs);
  clock('delta');
  const R = multibandDelta(subDelta, subMask, bw, bh);
  clock('blend');
  for (let y = by0; y < by0 + bh; y++) {
    for (let x = bx0; x < bx0 + bw; x++) {
      const q = (y * w + x) * 3, r = ((y - by0) * bw + (x - bx0)) * 3, k = (ghost ? 1 - ghost[y * w + x] : 1) * (front ? 1 - front[y * w + x] : 1);
      Tw[q] += k * R[r]; Tw[q + 1] += k * R[r + 1]; Tw[q + 2] += k * R[r + 2];
    }
  }
  // The template's border is not picture: left as it is.
  if (frame.x0 > 0 || frame.y0 > 0 || frame.x1 < canvas.width || frame.y1 < canvas.height) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= frame.x0 && X < frame.x1 && Y >= frame.y0 && Y < frame.y1) continue;
      const q = (y * w + x) * 3, s = (Y * canvas.width + X) * 3;
      Tw[q] = cv[s]; Tw[q + 1] = cv[s + 1]; Tw[q + 2] = cv[s + 2];
    }
  }
  // A clamped view rounds and clamps on store.
  const dst = new Uint8ClampedArray(cv.buffer, cv.byteOffset, cv.byteLength);
  for (let y = 0; y < h; y++) {
    const d0 = ((y + oy) * canvas.width + ox) * 3, q0 = y * w * 3;
    if (!inPlace) { for (let i = 0; i < w * 3; i++) dst[d0 + i] = Tw[q0 + i]; continue; }
    for (let i = 0; i < w * 3; i++) { const o = inPlace[(q0 + i - (i % 3)) / 3]; dst[d0 + i] = o > 0 ? o * cv[d0 + i] + (1 - o) * Tw[q0 + i] : Tw[q0 + i]; }
  }
  clock('write');
}

/**
 * The user's photo warped onto `target` (triangles `tri`) and the template onto `targetT` (its
 * own Delaunay triangulation), or both onto `target` in one pass when `targetT` is null.
 * `covered` is the template warp's; `value` the user warp's.
 */
function warpUserTemplate(target: Pts, tri: Uint32Array, targetT: Pts | null, user: WarpSource, template: WarpSource, ox: number, oy: number, w: number, h: number, triValue?: Float32Array) {
  if (!targetT) return warpPiecewise(target, tri, [user, template], ox, oy, w, h, triValue);
  const u = warpPiecewise(target, tri, [user], ox, oy, w, h, triValue);
  const t = warpPiecewise(targetT, new Delaunator(targetT).triangles, [template], ox, oy, w, h);
  return { out: [u.out[0], t.out[0]], valid: [u.valid[0], t.valid[0]], covered: t.covered, value: u.value };
}

type Box = { x0: number; y0: number; x1: number; y1: number };

/**
 * Per pixel of the window, how much of the user's texture may be used (null = all of it):
 * triangle visibility × (1 − template occluders) × (1 − user occluders), as `tune` asks; and the
 * template's occluders alone (null when not asked for).
 */
function usableMask(tune: FusionTuning, vis: Float32Array | undefined, Tw: Float32Array, Uw: Float32Array, validU: Uint8Array, Pl: Pts, region: Float32Array, skin: Float32Array, w: number, h: number, fs: number, rb: Box, f: number, userOccluders: FuseFaceJob['userOccluders']): { use: Float32Array | null; occT: Float32Array | null } {
  if (!vis && tune.occlusion === 'off') return { use: null, occT: null };
  const occBox = { x0: rb.x0, y0: rb.y0, x1: rb.x1, y1: rb.y1 };
  const browY = (Pl[2 * 105 + 1] + Pl[2 * 334 + 1]) / 2, eyeY = (Pl[2 * 159 + 1] + Pl[2 * 386 + 1]) / 2;
  const upright = Math.abs(Pl[2 * 152 + 1] - Pl[2 * 10 + 1]) > Math.abs(Pl[2 * 152] - Pl[2 * 10]);
  const occT = tune.occlusion === 'off' ? null : templateOccluders(Tw, w, h, Pl, region, skin, fs, occBox);
  // The user's occluders, when dropped: above the brows (fringe, hat brims) always; around the eyes
  // (glasses frames) they are part of the user's look at FuseFaceDegree < 50, and dropped from 50.
  const eyeBand = f >= USER_LOOK_BELOW ? 1 : 0;
  const userWeight = (_x: number, y: number) => (!upright ? eyeBand : y < browY ? 1 : y < eyeY + (eyeY - browY) * 1.5 ? eyeBand : 0);
  const dropUsers = tune.occlusion === 'both' || (tune.occlusion === 'auto' && dropsUsers('auto', f));
  const occU = !dropUsers || userOccluders === 'keep' ? null : occlusionMask({ img: Uw, w, h, mesh: Pl, region, skin, valid: validU, faceSize: fs, box: occBox, weight: userWeight });
  let use: Float32Array;
  if (vis) { use = vis; blurBox(use, w, h, occBox, 0.02 * fs); } else use = new Float32Array(w * h).fill(1);
  // The occlusion masks are zero outside the box (the visibility, a blur of values in [0,1], needs no clamp).
  const bx0 = Math.max(0, Math.floor(occBox.x0)), by0 = Math.max(0, Math.floor(occBox.y0)), bx1 = Math.min(w, Math.ceil(occBox.x1)), by1 = Math.min(h, Math.ceil(occBox.y1));
  // With occluderFill the template's occluders are composited after the blend instead (fuseFace).
  const holeT = tune.occluderFill ? null : occT;
  if (holeT || occU) for (let y = by0; y < by1; y++) for (let q = y * w + bx0; q < y * w + bx1; q++) use[q] *= (holeT ? 1 - holeT[q] : 1) * (occU ? 1 - occU[q] : 1);
  return { use, occT };
}


/** A caller's picture area within the template and not degenerate, or undefined (then found on the template). */
function sanePicture(a: Area | undefined, W: number, H: number): Area | undefined {
  if (!a) return undefined;
  const x0 = Math.max(0, Math.round(a.x0)), y0 = Math.max(0, Math.round(a.y0)), x1 = Math.min(W, Math.round(a.x1)), y1 = Math.min(H, Math.round(a.y1));
  return x1 - x0 >= 8 && y1 - y0 >= 8 ? { x0, y0, x1, y1 } : undefined;
}

/** Accumulates the time since the previous call under each stage name (bench/fusion-stages). */
function stopwatch(into?: Record<string, number>): (stage: string) => void {
  if (!into) return () => {};
  let last = performance.now();
  return (stage) => { const now = performance.now(); into[stage] = (into[stage] ?? 0) + now - last; last = now; };
}

/** U += gain·(U − blur(U)) inside the region: unsharp masking (gain > 0) or smoothing (< 0). */
function adjustDetail(U: Float32Array, region: Float32Array, w: number, h: number, sigma: number, gain: number): void {
  const ch = new Float32Array(w * h);
  for (let c = 0; c < 3; c++) {
    for (let q = 0; q < w * h; q++) ch[q] = U[q * 3 + c];
    blur(ch, w, h, Math.max(1, sigma));
    for (let q = 0; q < w * h; q++) if (region[q] > 0) U[q * 3 + c] += gain * (U[q * 3 + c] - ch[q]);
  }
}

/** A polygon filled and blurred, returned for the sub-window (sx, sy, sw, sh); the blur runs on the polygon's reach only. */
function featheredPolygon(poly: Pts, sigma: number, sx: number, sy: number, sw: number, sh: number): Float32Array {
  const b = bounds(poly);
  // Three box passes of radius r reach 3r pixels.
  const reach = 3 * Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2) + 2;
  const mx0 = Math.max(sx, Math.floor(b.x0) - reach), my0 = Math.max(sy, Math.floor(b.y0) - reach);
  const mx1 = Math.min(sx + sw, Math.ceil(b.x1) + reach), my1 = Math.min(sy + sh, Math.ceil(b.y1) + reach);
  const out = new Float32Array(sw * sh);
  const mw = mx1 - mx0, mh = my1 - my0;
  if (mw <= 0 || mh <= 0) return out;
  const lp = new Float64Array(poly);
  for (let i = 0; i < lp.length; i += 2) { lp[i] -= mx0; lp[i + 1] -= my0; }
  const m = blur(fillPolygon(lp, mw, mh), mw, mh, sigma);
  for (let y = 0; y < mh; y++) out.set(m.subarray(y * mw, (y + 1) * mw), (y + my0 - sy) * sw + (mx0 - sx));
  return out;
}

const bytesOf = (d: Uint8Array | Buffer) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

function isGrey(img: Float32Array, covered: Uint8Array): boolean {
  let d = 0, n = 0;
  for (let q = 0; q < covered.length; q += 7) {
    if (!covered[q]) continue;
    const r = img[q * 3], g = img[q * 3 + 1], b = img[q * 3 + 2];
    d += Math.abs(r - g) + Math.abs(g - b);
    n++;
  }
  return n > 0 && d / n < 2;
}

function toGrey(img: Float32Array): void {
  for (let i = 0; i < img.length; i += 3) {
    const y = 0.299 * img[i] + 0.587 * img[i + 1] + 0.114 * img[i + 2];
    img[i] = y; img[i + 1] = y; img[i + 2] = y;
  }
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
