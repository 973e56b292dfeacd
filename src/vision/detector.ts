// Face detection with fr_detect (a 320x240 RetinaFace/RFB-style detector whose smallest anchor
// is 10 px). One pass over the whole image finds large faces only, so the image is also covered
// by a pyramid of overlapping 4:3 tiles sized so that the smallest face wanted is ≥ ~16 px at
// the detector's input. Boxes that touch an inner tile border are dropped (the 50% overlap
// guarantees the whole face lies in a neighbouring tile or a coarser level), then a global NMS.
import type { Box, RgbImage } from './types.ts';
import type { ModelSpec } from './model-set.ts';
import { createSession, run1, type Session } from './ort.ts';
import { ImagePyramid, rectToTensor, type ChannelOrder } from './image-ops.ts';
import { iou } from './face-pick.ts';

export interface Detection { box: Box; score: number }

export interface DetectOptions {
  /** Smallest face (box width, px) the pyramid must reach. Default 34 (Tencent's default). */
  minFaceSize?: number;
  scoreThreshold?: number;
  /** The caller uses one face: stop after the whole-frame pass if it found a sure face. */
  single?: boolean;
}

const IN_W = 320;
const IN_H = 240;
const TARGET_MIN_PX = 16;
// 16 px at the input is the detector's edge: at MinFaceSize 34, faces of 34-45 px were found 6
// times in 12 (bench/detector.ts, groups shrunk to a 30 px median face). One extra, finer tile
// level puts the smallest wanted face at 24 px. It costs ~2.25x the old finest level's passes,
// only on the tiled path (the one-face fast path stops before the pyramid when the whole frame
// holds a sure face). The other levels stay where they were: moving them all (24 px for every
// level) shifted which tile saw which texture and added a false box at MinFaceSize 20.
const FINE_MIN_PX = 24;
// Window widths, in face widths, of the second looks (see verify()).
const VERIFY_FRAMINGS = [3, 1.8, 1.3];
// The coarse second look (every candidate): a window 8 face widths wide puts the face at ~40 px
// of the detector's 320 px input, its most reliable size. A real face keeps a score ≥ 0.99 there
// (every counted face of bench/detector-truth.json); a texture that a fine tile blew up to a
// face-like 100-200 px blob (lace, hands, a shirt; on portraits upscaled to 4000 px, most false
// boxes scored 0.96-0.9998) is not found at all. Scale consistency, not a per-photo threshold.
const COARSE_FRAMING = 8;
// Other framings of one face tried when its best box fails the second look (see detect()).
const ALTERNATIVES = 2;
const SURE_SCORE = 0.995; // face width at the detector input we trust to be found
// How much larger than the frame the zoomed-out pass's window is (see detect()).
const ZOOM_OUT = 1.7;
// A box at least this share of the frame's shorter side is a frame-filling face (see detect()).
const FILLING = 0.75;

export class FaceDetector {
  private constructor(private readonly session: Session, private readonly spec: ModelSpec) {}

  static async load(spec: ModelSpec, file: string): Promise<FaceDetector> {
    return new FaceDetector(await createSession(file), spec);
  }

  get defaultThreshold(): number {
    return typeof this.spec.scoreThreshold === 'number' ? this.spec.scoreThreshold : 0.65;
  }

  /** Runs the detector over one rectangle of the image (may extend past it: zero padding). */
  async detectRect(img: RgbImage | ImagePyramid, rx: number, ry: number, rw: number, rh: number, threshold: number): Promise<Detection[]> {
    const inp = this.spec.input;
    const t = rectToTensor(img, rx, ry, rw, rh, {
      width: IN_W, height: IN_H, channels: (inp.channels ?? 'BGR') as ChannelOrder, mean: inp.mean ?? 127, std: inp.std ?? 128,
    });
    const out = await run1(this.session, inp.name, t, [1, 3, IN_H, IN_W]);
    const scores = out[this.spec.outputs?.scores ?? 'scores'].data as Float32Array;
    const boxes = out[this.spec.outputs?.boxes ?? 'boxes'].data as Float32Array;
    const n = scores.length / 2;
    const dets: Detection[] = [];
    for (let i = 0; i < n; i++) {
      const s = scores[i * 2 + 1];
      if (s < threshold) continue;
      const x1 = rx + boxes[i * 4] * rw, y1 = ry + boxes[i * 4 + 1] * rh;
      const x2 = rx + boxes[i * 4 + 2] * rw, y2 = ry + boxes[i * 4 + 3] * rh;
      if (x2 <= x1 || y2 <= y1) continue;
      dets.push({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score: s });
    }
    return nms(dets, 0.4);
  }

  async detect(image: RgbImage, opts: DetectOptions = {}): Promise<Detection[]> {
    const img = new ImagePyramid(image);
    const threshold = opts.scoreThreshold ?? this.defaultThreshold;
    const minFace = Math.max(20, opts.minFaceSize ?? 34);
    const { width: W, height: H } = image;
    const all: Detection[] = [];
    // Level 0: the whole image, letterboxed to 4:3 (the package squashes it; keeping the
    // aspect keeps faces face-shaped, which scored better on portrait photos).
    const fullW = Math.max(W, (H * 4) / 3);
    const fullH = (fullW * 3) / 4;
    all.push(...(await this.detectRect(img, 0, 0, fullW, fullH, threshold)));
    // A face that fills the frame (a tight crop: an ID photo, a fused 150-px template) is larger
    // than anything the whole-frame pass finds: portraits cropped to 0.8 of the face box were
    // found 43 times in 58, to 0.7 20 times (58 and 58 with this pass). The frame zoomed out into
    // a zero-padded window ZOOM_OUT times larger puts it back in range; only when the whole frame
    // held no sure face of a smaller size, so a portrait costs nothing (a sure box that fills the
    // frame is often framed tight: alex lacamoire's crop to 0.75 of his face gave a 0.995 box
    // that lost the face at the 1.3 look).
    const filling = (b: Box) => Math.max(b.width, b.height) >= FILLING * Math.min(W, H);
    if (!all.some((d) => d.score >= SURE_SCORE && !filling(d.box))) {
      const zw = fullW * ZOOM_OUT, zh = fullH * ZOOM_OUT;
      all.push(...(await this.detectRect(img, (W - zw) / 2, (H - zh) / 2, zw, zh, threshold)));
    }
    // Single-face fast path: the whole-frame pass is where large faces are found best; a sure
    // face there (wide enough for the request) is the face a one-face action uses, and the
    // pyramid would only add smaller faces (tiles cost 5-20 passes on a large photo).
    if (opts.single) {
      // The zoomed-out pass may have found the same face again: one box per face.
      const sure = nms(all, 0.4).filter((d) => d.score >= SURE_SCORE && d.box.width >= minFace);
      if (sure.length) {
        // On a large or tall photo the whole frame reaches the detector at a few pixels per face
        // feature, so the box is coarse (landmarks and embedding then drift: biden.jpg's 970x2204
        // gave cosine 0.976 against the tiled box). One more pass on a window of 2.5 face widths
        // gives the box the tiles would have given.
        // Below 2x downscaling the whole-frame box is already fine.
        if (fullW <= 2 * IN_W) return sure.map((d) => ({ score: d.score, box: clipBox(d.box, W, H) })).filter((d) => d.box.width >= 1 && d.box.height >= 1);
        const refined: Detection[] = [];
        for (const d of sure) {
          const w = Math.max(d.box.width, d.box.height) * 2.5, h = (w * 3) / 4;
          const cx = d.box.x + d.box.width / 2, cy = d.box.y + d.box.height / 2;
          const near = (await this.detectRect(img, cx - w / 2, cy - h / 2, w, h, threshold)).filter((e) => iou(e.box, d.box) > 0.4).sort((a, b) => b.score - a.score)[0];
          refined.push(near ?? d);
        }
        return refined.map((d) => ({ score: d.score, box: clipBox(d.box, W, H) })).filter((d) => d.box.width >= 1 && d.box.height >= 1);
      }
    }
    // Tile pyramid, finest first, up to the level that covers the whole image.
    const levels: number[] = [];
    const fine = Math.max(IN_W, (IN_W * minFace) / FINE_MIN_PX);
    for (let tileW = Math.max(IN_W, (IN_W * minFace) / TARGET_MIN_PX); tileW * 1.25 < fullW; tileW *= 2) levels.push(tileW);
    // At MinFaceSize 20 the finest level is already 400 px wide (a 20 px face at 16 px, 25 px at
    // 20 px); a level 1.25x finer found nothing more (54/57 of 20-34 px faces either way) at 2.2x
    // the passes, so the extra level is added only where it is ≥ 1.4x finer (MinFaceSize ≥ 28).
    const extraFine = fine * 1.25 < fullW && (!levels.length || fine <= levels[0] / 1.4);
    if (extraFine) levels.unshift(fine);
    for (const tileW of levels) {
      // The extra level is there only for the faces the old finest level sees at its edge (a
      // 2x MinFaceSize face is at 32 px of that level's input, where it is reliably found). Its
      // larger boxes are dropped: a big face cut by one of its small tiles' borders gave a
      // confident box of the upper face (obama-1080p: 0.9999, h246 of the face's 331) that
      // beat the whole face's box in NMS.
      const maxFace = extraFine && tileW === fine ? 2 * minFace : Infinity;
      const tileH = (tileW * 3) / 4;
      const xs = tileStarts(W, tileW);
      const ys = tileStarts(H, tileH);
      for (const ty of ys) {
        for (const tx of xs) {
          const dets = await this.detectRect(img, tx, ty, tileW, tileH, threshold);
          const margin = tileW * 0.01;
          for (const d of dets) {
            const b = d.box;
            const cutLeft = tx > 0 && b.x <= tx + margin;
            const cutTop = ty > 0 && b.y <= ty + margin;
            const cutRight = tx + tileW < W && b.x + b.width >= tx + tileW - margin;
            const cutBottom = ty + tileH < H && b.y + b.height >= ty + tileH - margin;
            if (!(cutLeft || cutTop || cutRight || cutBottom) && b.width < maxFace) all.push(d);
          }
        }
      }
    }
    const merged = suppressFaceParts(nms(all, 0.4));
    const verified: Detection[] = [];
    for (const rep of merged) {
      // NMS keeps the highest-scoring box of a face, but that box can be the worse framing: a
      // finer tile's tight box on a tilted, hair-framed face scored 0.9998 and failed the coarse
      // look (0.59) while a coarser level's box of the same face passed (crowds/group-7 at
      // MinFaceSize 34 once the fine level below was added). So when the kept box fails, the
      // boxes it suppressed (same face: IoU > 0.4) get the same second look, best first, up to
      // ALTERNATIVES distinct framings. Each must pass the same test, so precision rests on it.
      const tried: Box[] = [];
      const candidates = [rep, ...all.filter((a) => a !== rep && a.score < rep.score && iou(a.box, rep.box) > 0.4).sort((a, b) => b.score - a.score)];
      for (const d of candidates) {
        if (tried.length > ALTERNATIVES) break;
        if (tried.some((b) => iou(b, d.box) > 0.8)) continue;
        tried.push(d.box);
        // Confident detections get only the coarse look (one pass); the others all four framings.
        // A face filling the frame has nothing but zero padding around it in the coarse window (a
        // cut-off face at 40 px is no face to the detector): it gets the three closer looks.
        const v = await this.verify(img, d, threshold, filling(d.box) ? VERIFY_FRAMINGS : d.score >= SURE_SCORE ? [COARSE_FRAMING] : [COARSE_FRAMING, ...VERIFY_FRAMINGS]);
        if (v >= threshold) { verified.push({ box: d.box, score: Math.min(d.score, v) }); break; }
      }
    }
    // An alternative framing can overlap another kept box of the same face, hence one more NMS;
    // and one face per place: a box whose centre lies inside a better box of similar size is the
    // same face framed lower or higher (the mouth-and-chin box of a face under a fine tile). Two
    // visible faces cannot be that close: the nearer one would hide the other's nose.
    const final = nms(verified, 0.4);
    return final
      .filter((d) => !final.some((o) => o !== d && o.score > d.score && o.box.width < d.box.width * 1.6 && d.box.width < o.box.width * 1.6 && inside(d.box, o.box)))
      .map((d) => ({ score: d.score, box: clipBox(d.box, W, H) }))
      .filter((d) => d.box.width >= 1 && d.box.height >= 1);
  }

  /**
   * Second look: re-runs the detector on a window centred on the candidate, with the face at
   * about a third of the window width. Real faces keep their score under a new framing;
   * textures that fooled one tile (shirts, blurred flags) mostly do not.
   */
  private async verify(img: ImagePyramid, d: Detection, threshold: number, framings: number[]): Promise<number> {
    const side = Math.max(d.box.width, d.box.height);
    const cx = d.box.x + d.box.width / 2, cy = d.box.y + d.box.height / 2;
    let worst = 1;
    for (const k of framings) {
      const w = side * k, h = (w * 3) / 4;
      const dets = await this.detectRect(img, cx - w / 2, cy - h / 2, w, h, Math.min(0.3, threshold));
      let best = 0;
      for (const e of dets) if (iou(e.box, d.box) > 0.4) best = Math.max(best, e.score);
      worst = Math.min(worst, best);
      if (worst < threshold) break;
    }
    return worst;
  }
}

/** Tile origins with ≥ 50% overlap covering [0, total). */
function tileStarts(total: number, tile: number): number[] {
  if (tile >= total) return [0];
  const n = Math.ceil((total - tile) / (tile / 2)) + 1;
  const step = (total - tile) / (n - 1);
  return Array.from({ length: n }, (_, i) => Math.round(i * step));
}


export function nms(dets: Detection[], threshold: number): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const keep: Detection[] = [];
  for (const d of sorted) {
    // Also suppress a box mostly inside a kept one (a face part found at a finer tile level).
    if (keep.every((k) => iou(k.box, d.box) <= threshold && containment(d.box, k.box) < 0.8)) keep.push(d);
  }
  return keep;
}

/**
 * Fine tiles see parts of a big face (an ear, the upper half) as small faces. Drop a candidate
 * lying mostly within a clearly larger face's head region (its box grown by 30% per side).
 */
function suppressFaceParts(dets: Detection[]): Detection[] {
  return dets.filter((d) => !dets.some((big) => {
    if (big === d || big.box.width < d.box.width * 1.6) return false;
    const g = 0.3;
    const head: Box = { x: big.box.x - big.box.width * g, y: big.box.y - big.box.height * g, width: big.box.width * (1 + 2 * g), height: big.box.height * (1 + 2 * g) };
    return containment(d.box, head) > 0.6;
  }));
}

/** Whether the centre of a lies inside b. */
function inside(a: Box, b: Box): boolean {
  const cx = a.x + a.width / 2, cy = a.y + a.height / 2;
  return cx > b.x && cx < b.x + b.width && cy > b.y && cy < b.y + b.height;
}

function containment(inner: Box, outer: Box): number {
  const x1 = Math.max(inner.x, outer.x), y1 = Math.max(inner.y, outer.y);
  const x2 = Math.min(inner.x + inner.width, outer.x + outer.width), y2 = Math.min(inner.y + inner.height, outer.y + outer.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const area = inner.width * inner.height;
  return area > 0 ? inter / area : 0;
}

function clipBox(b: Box, W: number, H: number): Box {
  const x1 = Math.max(0, b.x), y1 = Math.max(0, b.y);
  const x2 = Math.min(W, b.x + b.width), y2 = Math.min(H, b.y + b.height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}
