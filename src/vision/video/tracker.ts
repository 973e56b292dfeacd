// Face tracks through a video: per-frame detections associated by box overlap (IoU, greedy
// best-first, with the embedding as a tie-breaker when given), a short miss bridged by
// interpolation instead of starting a new face, and the dense mesh smoothed over time with a
// One-Euro filter (Casiez et al. 2012: little lag on fast motion, little jitter when still).
// At a shot cut no track continues by position (the face at the same place after a cut is
// usually someone else); a face after a cut takes an earlier track's identity only when their
// mean embeddings say it is the same person, and nothing is bridged or smoothed across the cut.
import type { Box } from '../types.ts';
import { OneEuro } from './one-euro.ts';
import { iou } from '../face-pick.ts';
import { cosine } from '../similarity.ts';

export const MESH_POINTS = 468;

export interface FrameDetection {
  box: Box;
  score: number;
  /** 468 points, x/y interleaved, frame coordinates. */
  mesh: Float32Array | null;
  embedding?: Float32Array;
}

/** One face's observation in one frame; `bridged` when filled in across a short miss. */
export interface TrackPoint { frame: number; box: Box; mesh: Float32Array | null; bridged: boolean }

export interface Track {
  /** Stable identity: the TemplateFaceID ("0", "1", ... by first appearance, then size). */
  id: number;
  points: TrackPoint[];
  /** The largest box seen (what DescribeMaterialList shows). */
  bestBox: Box;
  bestFrame: number;
  /** Mean embedding over the track (picks a face by TemplateFaceImage). */
  embedding: Float32Array | null;
}

export interface TrackerOptions {
  /** Frames a face may be missing and still keep its identity (bridged); default 12 (≈0.5 s). */
  maxMiss?: number;
  /** Minimum IoU to continue a track; default 0.2. */
  minIou?: number;
  /** Tracks shorter than this many detected frames are noise; default 3 (a clip of ≤3 frames keeps all). */
  minLength?: number;
  /** One-Euro parameters for the mesh (in face-size units): default minCutoff 1.0 Hz, beta 0.3. */
  minCutoff?: number;
  beta?: number;
  /** Mean-embedding cosine at which a face after a shot cut is the same person as an earlier track; default 0.5 (Score ≈ 58). */
  reidCosine?: number;
}

interface Live { points: TrackPoint[]; last: TrackPoint; miss: number; emb: Float32Array | null; embN: number; detected: number; shot: number }

/** A track's observations within one shot. */
interface Segment { points: TrackPoint[]; emb: Float32Array | null; detected: number; first: number; last: number; shot: number }

export class FaceTracker {
  private live: Live[] = [];
  private done: Live[] = [];
  private readonly maxMiss: number;
  private readonly minIou: number;
  private shot = 0;

  constructor(private readonly opts: TrackerOptions = {}) {
    this.maxMiss = opts.maxMiss ?? 12;
    this.minIou = opts.minIou ?? 0.2;
  }

  /** Feeds the detections of the next frame (frames must come in order, none skipped); `cut`: a new shot starts here. */
  step(frame: number, dets: FrameDetection[], cut = false): void {
    if (cut) { this.done.push(...this.live); this.live = []; this.shot++; }
    const pairs: { t: number; d: number; s: number }[] = [];
    this.live.forEach((t, ti) => dets.forEach((d, di) => {
      const o = iou(t.last.box, d.box);
      if (o < this.minIou) return;
      const e = t.emb && d.embedding ? cosine(t.emb, d.embedding) / Math.max(1, t.embN) : 0;
      pairs.push({ t: ti, d: di, s: o + 0.25 * e });
    }));
    pairs.sort((a, b) => b.s - a.s);
    const usedT = new Set<number>(), usedD = new Set<number>();
    for (const p of pairs) {
      if (usedT.has(p.t) || usedD.has(p.d)) continue;
      usedT.add(p.t); usedD.add(p.d);
      const t = this.live[p.t], d = dets[p.d];
      const pt: TrackPoint = { frame, box: d.box, mesh: d.mesh, bridged: false };
      t.points.push(pt); t.last = pt; t.miss = 0; t.detected++;
      if (d.embedding) addEmb(t, d.embedding);
    }
    for (let ti = 0; ti < this.live.length; ti++) if (!usedT.has(ti)) this.live[ti].miss++;
    const still: Live[] = [];
    for (const t of this.live) (t.miss > this.maxMiss ? this.done : still).push(t);
    this.live = still;
    dets.forEach((d, di) => {
      if (usedD.has(di)) return;
      const pt: TrackPoint = { frame, box: d.box, mesh: d.mesh, bridged: false };
      const t: Live = { points: [pt], last: pt, miss: 0, emb: null, embN: 0, detected: 1, shot: this.shot };
      if (d.embedding) addEmb(t, d.embedding);
      this.live.push(t);
    });
  }

  /** Ends tracking: joins a person's segments across shot cuts, bridges short misses, smooths the meshes, numbers the tracks. */
  finish(fps: number): Track[] {
    const all = [...this.done, ...this.live];
    this.live = []; this.done = [];
    const longest = Math.max(0, ...all.map((t) => t.detected));
    const minLen = Math.min(this.opts.minLength ?? 3, longest);
    const segs: Segment[] = all.filter((t) => t.detected >= minLen)
      .map((t) => ({ points: t.points, emb: unit(t.emb), detected: t.detected, first: t.points[0].frame, last: t.last.frame, shot: t.shot }));
    segs.sort((a, b) => a.first - b.first || area(b.points[0].box) - area(a.points[0].box));
    // Re-identification across cuts: each segment joins the most similar earlier person that is
    // not on screen in the same frames (greedy in time order).
    const reid = this.opts.reidCosine ?? 0.5;
    const people: Segment[][] = [];
    for (const s of segs) {
      let best: Segment[] | null = null, bs = reid;
      for (const p of people) {
        const tail = p[p.length - 1];
        if (!s.emb || tail.last >= s.first || p.some((q) => q.shot === s.shot)) continue;
        const pe = personEmb(p);
        if (!pe) continue;
        const c = cosine(pe, s.emb);
        if (c >= bs) { bs = c; best = p; }
      }
      if (best) best.push(s); else people.push([s]);
    }
    return people.map((p, id) => {
      const points: TrackPoint[] = [];
      for (const s of p) {
        const seg = bridge(s.points);
        smoothMeshes(seg, fps, this.opts.minCutoff ?? 1.0, this.opts.beta ?? 0.3);
        points.push(...seg);
      }
      let best = points[0];
      for (const q of points) if (!q.bridged && area(q.box) > area(best.box)) best = q;
      return { id, points, bestBox: best.box, bestFrame: best.frame, embedding: personEmb(p) };
    });
  }
}

const unit = (e: Float32Array | null): Float32Array | null => {
  if (!e) return null;
  const o = new Float32Array(e);
  let n = 0; for (const v of o) n += v * v;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < o.length; i++) o[i] /= n;
  return o;
};

/** A person's embedding: the segments' unit embeddings weighted by their detected frames. */
function personEmb(p: Segment[]): Float32Array | null {
  let sum: Float32Array | null = null;
  for (const s of p) {
    if (!s.emb) continue;
    sum ??= new Float32Array(s.emb.length);
    for (let i = 0; i < sum.length; i++) sum[i] += s.detected * s.emb[i];
  }
  return unit(sum);
}

const area = (b: Box) => b.width * b.height;

function addEmb(t: Live, e: Float32Array): void {
  if (!t.emb) t.emb = new Float32Array(e.length);
  for (let i = 0; i < e.length; i++) t.emb[i] += e[i];
  t.embN++;
}

/** Fills the frames between two observations of a track by linear interpolation (box and mesh). */
function bridge(points: TrackPoint[]): TrackPoint[] {
  const out: TrackPoint[] = [];
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    out.push(a);
    const b = points[i + 1];
    if (!b) break;
    for (let f = a.frame + 1; f < b.frame; f++) {
      const t = (f - a.frame) / (b.frame - a.frame);
      const lerp = (x: number, y: number) => x + (y - x) * t;
      const box = { x: lerp(a.box.x, b.box.x), y: lerp(a.box.y, b.box.y), width: lerp(a.box.width, b.box.width), height: lerp(a.box.height, b.box.height) };
      let mesh: Float32Array | null = null;
      if (a.mesh && b.mesh) { mesh = new Float32Array(a.mesh.length); for (let k = 0; k < mesh.length; k++) mesh[k] = lerp(a.mesh[k], b.mesh[k]); }
      out.push({ frame: f, box, mesh, bridged: true });
    }
  }
  return out;
}

/** One-Euro on every mesh coordinate, run forward then backward (offline: no lag either way). */
function smoothMeshes(points: TrackPoint[], fps: number, minCutoff: number, beta: number): void {
  const runs: TrackPoint[][] = [];
  let cur: TrackPoint[] = [];
  for (const p of points) {
    if (p.mesh) cur.push(p);
    else if (cur.length) { runs.push(cur); cur = []; }
  }
  if (cur.length) runs.push(cur);
  for (const run of runs) {
    // The filter works in face-size units so its parameters hold at any resolution.
    const size = run.reduce((s, p) => s + Math.max(p.box.width, p.box.height), 0) / run.length || 1;
    const n = run[0].mesh!.length;
    for (const dir of [1, -1]) {
      const f = Array.from({ length: n }, () => new OneEuro(fps, minCutoff, beta));
      const order = dir === 1 ? run : [...run].reverse();
      for (const p of order) {
        const m = p.mesh!;
        const out = new Float32Array(n);
        for (let k = 0; k < n; k++) out[k] = f[k].filter(m[k] / size) * size;
        p.mesh = out;
      }
    }
  }
}

/** The track's observation at a frame, if it has one. */
export function pointAt(t: Track, frame: number): TrackPoint | undefined {
  const i = frame - t.points[0].frame;
  const p = t.points[i];
  return p && p.frame === frame ? p : t.points.find((q) => q.frame === frame);
}
