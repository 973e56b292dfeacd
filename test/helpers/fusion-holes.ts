// The fusion-quality panel's hole count (bench/fusion-quality.ts), shared with the tests: blobs
// of face pixels darker than everything near that pixel in every source — the template, the
// user's photo warped onto the fused mesh, and that photo in the template's light (the colour
// transfer is meant to darken the user's brows where the template is darker) — by 40 levels.
import Delaunator from 'delaunator';
import { warpPiecewise } from '../../src/vision/fusion/warp.ts';
import { localColourTransfer } from '../../src/vision/fusion/colour.ts';
import { bounds, faceSize, ring } from '../../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../../src/vision/fusion/raster.ts';
import type { RgbImage } from '../../src/vision/types.ts';

const lumAt = (img: RgbImage, p: number) => 0.299 * img.data[p * 3] + 0.587 * img.data[p * 3 + 1] + 0.114 * img.data[p * 3 + 2];
const lumOf = (img: Float32Array, q: number) => 0.299 * img[q * 3] + 0.587 * img[q * 3 + 1] + 0.114 * img[q * 3 + 2];

/** Holes of result R (template T, user U with its mesh, fused mesh P): the count and the pixel mask. */
export function fusionHoles(R: RgbImage, T: RgbImage, U: RgbImage, uMesh: Float64Array, P: Float64Array): { count: number; mask: Uint8Array } {
  const W = R.width, H = R.height;
  const fs = faceSize(P);
  const face = fillPolygon(ring(P, 0.95), W, H), inner = fillPolygon(ring(P, 0.85), W, H);
  const b = bounds(ring(P, 1.0));
  const X0 = Math.max(1, Math.floor(b.x0)), Y0 = Math.max(1, Math.floor(b.y0)), X1 = Math.min(W - 1, Math.ceil(b.x1)), Y1 = Math.min(H - 1, Math.ceil(b.y1));
  const ww = X1 - X0, wh = Y1 - Y0;
  const mask = new Uint8Array(W * H);
  if (ww <= 0 || wh <= 0) return { count: 0, mask };
  const tri = new Delaunator(P).triangles;
  const { out: [Uw], valid: [Uv] } = warpPiecewise(P, tri, [{ img: U, pts: uMesh }], X0, Y0, ww, wh);
  const lT = new Float32Array(ww * wh), lU = new Float32Array(ww * wh), lUc = new Float32Array(ww * wh);
  const Uc = new Float32Array(Uw), Tl = new Float32Array(ww * wh * 3), innerW = new Float32Array(ww * wh);
  for (let y = 0; y < wh; y++) for (let x = 0; x < ww; x++) {
    const q = y * ww + x, p = (y + Y0) * W + x + X0;
    lT[q] = lumAt(T, p);
    lU[q] = Uv[q] ? lumOf(Uw, q) : NaN;
    for (let c = 0; c < 3; c++) Tl[q * 3 + c] = T.data[p * 3 + c];
    innerW[q] = inner[p] ? 1 : 0;
  }
  localColourTransfer(Uc, Tl, innerW, Uv, innerW, ww, wh, 0.1 * fs);
  for (let q = 0; q < ww * wh; q++) lUc[q] = Uv[q] ? lumOf(Uc, q) : NaN;
  const r = Math.max(2, Math.round(0.03 * fs));
  const [minT] = minMax(lT, ww, wh, r), [minU] = minMax(lU, ww, wh, r), [minUc] = minMax(lUc, ww, wh, r);
  for (let y = Y0; y < Y1; y++) for (let x = X0; x < X1; x++) {
    const p = y * W + x, q = (y - Y0) * ww + (x - X0);
    if (!face[p]) continue;
    const lo = Number.isNaN(minU[q]) ? minT[q] : Math.min(minT[q], minU[q], minUc[q]);
    if (lumAt(R, p) < lo - 40) mask[p] = 1;
  }
  return { count: blobs(mask, W, X0, Y0, X1, Y1, Math.max(4, Math.round((0.02 * fs) ** 2))), mask };
}

/** Per pixel, the min and max of `v` over a (2r+1)² square (NaN = no sample; all-NaN squares give NaN). */
export function minMax(v: Float32Array, w: number, h: number, r: number): [Float32Array, Float32Array] {
  const pass = (src: Float32Array, f: (a: number, b: number) => number, horizontal: boolean) => {
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      let m = NaN;
      for (let k = -r; k <= r; k++) {
        const xx = horizontal ? x + k : x, yy = horizontal ? y : y + k;
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
        const s = src[yy * w + xx];
        if (!Number.isNaN(s)) m = Number.isNaN(m) ? s : f(m, s);
      }
      out[y * w + x] = m;
    }
    return out;
  };
  return [pass(pass(v, Math.min, true), Math.min, false), pass(pass(v, Math.max, true), Math.max, false)];
}

/** Connected blobs (4-neighbour) of at least minArea pixels inside [X0,X1)×[Y0,Y1). */
export function blobs(m: Uint8Array, W: number, X0: number, Y0: number, X1: number, Y1: number, minArea: number): number {
  const seen = new Uint8Array(m.length);
  let n = 0;
  for (let y = Y0; y < Y1; y++) for (let x = X0; x < X1; x++) {
    const p0 = y * W + x;
    if (!m[p0] || seen[p0]) continue;
    let area = 0;
    const stack = [p0];
    seen[p0] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      area++;
      const px = p % W;
      for (const q of [p - 1, p + 1, p - W, p + W]) {
        const qx = q % W, qy = (q - qx) / W;
        if (qx < X0 || qx >= X1 || qy < Y0 || qy >= Y1 || Math.abs(qx - px) > 1 || seen[q] || !m[q]) continue;
        seen[q] = 1; stack.push(q);
      }
    }
    if (area >= minArea) n++;
  }
  return n;
}

/**
 * The beard band (issue 16 item 3): how far the result's chin-to-cheek colour differs from the
 * user's own. A bearded template over a clean-shaven user mixed the beard into the user's bare
 * chin (a blue-grey band): the result's chin is then darker and greyer against its cheeks than
 * the user's chin against the user's cheeks. Per channel, the ratio chin mean ÷ cheek mean of the
 * result and of the user's photo warped onto the fused mesh (`Uw`, valid `Uv`, window X0, Y0 of
 * width ww); the band is 100 × the RGB distance of the two ratio vectors (0 = the same contrast).
 * Chin: inside ring 0.85 below the lower lip; cheeks: inside ring 0.85 between the lower eyelids and the nose tip.
 */
export function beardBand(R: RgbImage, Uw: Float32Array, Uv: Uint8Array, X0: number, Y0: number, ww: number, wh: number, P: Float64Array): number {
  const W = R.width;
  const inner = fillPolygon(ring(P, 0.85), W, R.height);
  const lipY = P[2 * 17 + 1], eyeY = (P[2 * 145 + 1] + P[2 * 374 + 1]) / 2, noseY = P[2 * 1 + 1];
  const acc = { rl: [0, 0, 0], rc: [0, 0, 0], ul: [0, 0, 0], uc: [0, 0, 0], nl: 0, nc: 0 };
  for (let y = 0; y < wh; y++) for (let x = 0; x < ww; x++) {
    const q = y * ww + x, p = (y + Y0) * W + x + X0, Y = y + Y0;
    if (!Uv[q] || !inner[p]) continue;
    const chin = Y > lipY, cheek = Y > eyeY && Y < noseY;
    if (!chin && !cheek) continue;
    for (let c = 0; c < 3; c++) {
      if (chin) { acc.rl[c] += R.data[p * 3 + c]; acc.ul[c] += Uw[q * 3 + c]; } else { acc.rc[c] += R.data[p * 3 + c]; acc.uc[c] += Uw[q * 3 + c]; }
    }
    if (chin) acc.nl++; else acc.nc++;
  }
  if (acc.nl < 20 || acc.nc < 20) return 0;
  let d = 0;
  for (let c = 0; c < 3; c++) {
    const r = acc.rl[c] / Math.max(1, acc.rc[c]), u = acc.ul[c] / Math.max(1, acc.uc[c]);
    d += (r - u) ** 2;
  }
  return 100 * Math.sqrt(d);
}
