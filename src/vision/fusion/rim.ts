// The user's photo beyond the user's own face, near the fused outline. The mesh's face oval does
// not sit exactly on the face's edge: where it runs a little outside it (a cheek, the jaw), the
// band the user's pixels are used in (up to 1.03 of the outline) shows the photo's background —
// Yale's white wall as a light line along the cheek, a blue curtain as a tinted halo. Those pixels
// are not the user's face, so there the template's stay. Told apart by colour against the user's
// skin right next to them: a normalised blur of a band just inside the rim (cheeks, jaw, the
// forehead's sides) extends that skin outwards, and a rim pixel much brighter than it or of
// another hue is background. One only darker is left alone unless it is far darker (the jaw's
// shadow, a beard's edge and a cheek turning away from the light are darker skin, and carry the
// user's outline). A single face-wide skin statistic did not work: the band's own spread (hair at
// the forehead's sides, side light) was as wide as a white wall's difference from the face.
import { blurBox } from './raster.ts';
import { nthSmallest } from './select.ts';

type Box = { x0: number; y0: number; x1: number; y1: number };

/** Deviations (in robust standard deviations of the band's own pixels from their reference) where the weight falls from 1 to 0. */
const FROM = 3, TO = 5;
/** Darker-than-skin counts a third as much: shading is darker skin. */
const DARKER = 1 / 3;
// Floors of the spread (8-bit levels), so a smooth or grey photo (no chroma at all) is not over-sensitive.
const FLOOR_Y = 6, FLOOR_C = 3;
/** Reach of the skin reference, in face sizes. */
const REACH = 0.04;
/**
 * Blur of the finished weight, in face sizes: the outline's own feather (0.015), so the switch
 * between user and template is never sharper than the outline. Blurred by only 0.006, the inner
 * ring's edge, where the rule fired all along a chin, showed as a stair-stepped line (amy1's
 * frame-cut chin against subject07's beard). The blur lets a little of a wall back next to the
 * inner ring (fusion-rim.test.ts: 7.4 → 15.2 levels of 53); 0.02 let too much back (18.1), and
 * growing the template's side first (so the feather lay inside the face) took the user's face
 * edge away (0.93 → 0.88 of it shown).
 */
const SOFT = 0.015;

/**
 * Per pixel of the window (w × h), how much of the warped user photo `Uw` (RGB floats) may be
 * used: 1 inside `inner` (a fill of the fused outline's inner ring) and wherever a rim pixel
 * (`region` but not `inner`) looks like the skin of the band between `skin` (a fill of a smaller
 * ring) and `inner` next to it; towards 0 where it looks like background. Null when nothing on the
 * rim looks like background (or the band is too small to judge).
 */
export function userRimWeight(Uw: Float32Array, validU: Uint8Array, region: Float32Array, inner: Float32Array, skin: Float32Array, w: number, h: number, box: Box, faceSize: number): Float32Array | null {
  const x0 = Math.max(0, Math.floor(box.x0)), y0 = Math.max(0, Math.floor(box.y0)), x1 = Math.min(w, Math.ceil(box.x1)), y1 = Math.min(h, Math.ceil(box.y1));
  // The band's pixels in Y/Cb/Cr, weighted by membership, on a grid of k×k cells (the reference
  // is a blur over several cells anyway; full resolution cost 40 ms a face); blurred, then divided
  // by the blurred weight (a normalised convolution).
  const k = Math.max(1, Math.floor(0.01 * faceSize));
  const gw = Math.ceil((x1 - x0) / k), gh = Math.ceil((y1 - y0) / k);
  if (gw < 2 || gh < 2) return null;
  const band = new Uint8Array(w * h);
  const den = new Float32Array(gw * gh), ch = [new Float32Array(gw * gh), new Float32Array(gw * gh), new Float32Array(gw * gh)];
  const [cY, cB, cR] = ch;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const q = y * w + x;
      if (skin[q] || !inner[q] || !validU[q]) continue;
      const r = Uw[q * 3], gr = Uw[q * 3 + 1], b = Uw[q * 3 + 2], Y = 0.299 * r + 0.587 * gr + 0.114 * b;
      const g = ((y - y0) / k | 0) * gw + ((x - x0) / k | 0);
      band[q] = 1; den[g]++; cY[g] += Y; cB[g] += 0.564 * (b - Y); cR[g] += 0.713 * (r - Y);
      n++;
    }
  }
  if (n < 100) return null;
  const sigma = (REACH * faceSize) / k, all = { x0: 0, y0: 0, x1: gw, y1: gh };
  blurBox(den, gw, gh, all, sigma);
  for (const c of ch) blurBox(c, gw, gh, all, sigma);
  const cell = (x: number, y: number) => ((y - y0) / k | 0) * gw + ((x - x0) / k | 0);

  // A cell's weight is a pixel count: "next to the band" is a blurred count of at least a pixel.
  const near = 0.02 * k * k;
  // The band's own spread around its reference: how much skin varies over that reach.
  // (Their absolute values, which is all the spread needs.)
  const cap = Math.ceil((x1 - x0) / 2) * Math.ceil((y1 - y0) / 2);
  const rY = new Float64Array(cap), rB = new Float64Array(cap), rR = new Float64Array(cap);
  let m = 0;
  for (let y = y0; y < y1; y += 2) {
    for (let x = x0; x < x1; x += 2) {
      const q = y * w + x;
      const g = cell(x, y);
      if (!band[q] || den[g] < 1e-3) continue;
      const r = Uw[q * 3], gr = Uw[q * 3 + 1], b = Uw[q * 3 + 2], Y = 0.299 * r + 0.587 * gr + 0.114 * b;
      rY[m] = Math.abs(Y - cY[g] / den[g]); rB[m] = Math.abs(0.564 * (b - Y) - cB[g] / den[g]); rR[m] = Math.abs(0.713 * (r - Y) - cR[g] / den[g]);
      m++;
    }
  }
  const sY = spreadOfAbs(rY.subarray(0, m), FLOOR_Y), sB = spreadOfAbs(rB.subarray(0, m), FLOOR_C), sR = spreadOfAbs(rR.subarray(0, m), FLOOR_C);
  const out = new Float32Array(w * h).fill(1);
  let any = false;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const q = y * w + x;
      if (region[q] <= 0 || inner[q] > 0 || !validU[q]) continue;
      const g = cell(x, y);
      if (den[g] < near) continue;
      const r = Uw[q * 3], gr = Uw[q * 3 + 1], b = Uw[q * 3 + 2], Y = 0.299 * r + 0.587 * gr + 0.114 * b;
      const dy = (Y - cY[g] / den[g]) / sY;
      const z = Math.max(Math.abs(0.564 * (b - Y) - cB[g] / den[g]) / sB, Math.abs(0.713 * (r - Y) - cR[g] / den[g]) / sR, dy > 0 ? dy : -dy * DARKER);
      if (z <= FROM) continue;
      const u = Math.min(1, (z - FROM) / (TO - FROM));
      out[q] = 1 - u * u * (3 - 2 * u);
      any = true;
    }
  }
  if (!any) return null;
  // Blurred: single pixels of noise neither punch holes nor leave specks, and the switch is soft.
  return blurBox(out, w, h, box, SOFT * faceSize);
}

// The pixels' Y/Cb/Cr are computed in place (Y = 0.299 R + 0.587 G + 0.114 B, Cb = 0.564 (B − Y),
// Cr = 0.713 (R − Y)): a small array per pixel cost more than the arithmetic.

/** 1.4826 × the median of absolute values `d` (a standard deviation for normal residuals), floored; reorders `d`. */
function spreadOfAbs(d: Float64Array, floor: number): number {
  if (!d.length) return floor;
  return Math.max(floor, 1.4826 * nthSmallest(d, d.length >> 1));
}

