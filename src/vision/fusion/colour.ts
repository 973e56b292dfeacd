// Colour/lighting transfer: the warped user face is multiplied by blur(T)/blur(U), both blurs
// taken over the skin only (normalised convolution) on a coarse grid, so the template's
// low-frequency shading and skin tone replace the user's while the user's detail stays.
import { blur, blurBox } from './raster.ts';

export interface SkinStats { mean: [number, number, number]; std: [number, number, number]; pixels: number }

/** Mean/std of RGB under a mask (weights in [0,1]); used as material derivative data. */
export function skinStats(img: Float32Array | Uint8Array, mask: Float32Array, valid?: Uint8Array): SkinStats {
  const s = [0, 0, 0], q = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < mask.length; p++) {
    const m = mask[p] * (valid ? valid[p] : 1);
    if (m <= 0) continue;
    n += m;
    for (let c = 0; c < 3; c++) { const v = img[p * 3 + c]; s[c] += m * v; q[c] += m * v * v; }
  }
  const mean = s.map((v) => (n > 0 ? v / n : 0)) as [number, number, number];
  const std = q.map((v, c) => (n > 0 ? Math.sqrt(Math.max(0, v / n - mean[c] ** 2)) : 0)) as [number, number, number];
  return { mean, std, pixels: Math.round(n) };
}

/**
 * In place: U *= clamp(blur(T·M)/blur(U·M), lo, hi) per channel, M = skin ∧ validU.
 * Blurs run on a grid of cells ≈ sigma/3 px, then the ratio is interpolated per pixel.
 * `skinBox`/`regionBox` (optional) bound where skin and region are non-zero, to skip the rest.
 */
type Box = { x0: number; y0: number; x1: number; y1: number };
const span = (b: Box | undefined, w: number, h: number) => b
  ? { x0: Math.max(0, Math.floor(b.x0) - 1), y0: Math.max(0, Math.floor(b.y0) - 1), x1: Math.min(w, Math.ceil(b.x1) + 1), y1: Math.min(h, Math.ceil(b.y1) + 1) }
  : { x0: 0, y0: 0, x1: w, y1: h };

export interface TransferOptions {
  /** Per pixel in [0,1], how much it may count as skin (e.g. 1 − the template's occluders). */
  weight?: Float32Array;
  /**
   * Pull each cell's ratio towards the whole face's, as if `prior` of a full cell's samples had
   * the face's mean colour: cells with a few samples (an occluder's edge, the skin's rim) no
   * longer blow up into white or black patches. 0 = off.
   */
  prior?: number;
  /** Per channel, a factor on every cell's ratio (a shot's colour reference ÷ this frame's; shot-colour.ts). */
  gain?: [number, number, number];
}

export function localColourTransfer(U: Float32Array, T: Float32Array, skin: Float32Array, validU: Uint8Array, region: Float32Array, w: number, h: number, sigma: number, skinBox?: Box, regionBox?: Box, lo = 0.4, hi = 2.5, opts: TransferOptions = {}): void {
  const sb = span(skinBox, w, h), rb = span(regionBox, w, h);
  const k = Math.max(1, Math.floor(sigma / 3));
  const gw = Math.ceil(w / k), gh = Math.ceil(h / k);
  const sU = [new Float32Array(gw * gh), new Float32Array(gw * gh), new Float32Array(gw * gh)];
  const sT = [new Float32Array(gw * gh), new Float32Array(gw * gh), new Float32Array(gw * gh)];
  // Per channel, the same sums in the same order as a loop over channels; one variable each.
  const [sU0, sU1, sU2] = sU, [sT0, sT1, sT2] = sT, wt = opts.weight;
  let gU0 = 0, gU1 = 0, gU2 = 0, gT0 = 0, gT1 = 0, gT2 = 0;
  let gM = 0;
  for (let y = sb.y0; y < sb.y1; y++) {
    const gy = (y / k) | 0;
    for (let x = sb.x0; x < sb.x1; x++) {
      const p = y * w + x;
      const m = skin[p] * validU[p] * (wt ? wt[p] : 1);
      if (m <= 0) continue;
      const g = gy * gw + ((x / k) | 0), i = p * 3;
      const u0 = m * U[i], u1 = m * U[i + 1], u2 = m * U[i + 2], t0 = m * T[i], t1 = m * T[i + 1], t2 = m * T[i + 2];
      sU0[g] += u0; sT0[g] += t0; gU0 += u0; gT0 += t0;
      sU1[g] += u1; sT1[g] += t1; gU1 += u1; gT1 += t1;
      sU2[g] += u2; sT2[g] += t2; gU2 += u2; gT2 += t2;
      gM += m;
    }
  }
  const gU = [gU0, gU1, gU2], gT = [gT0, gT1, gT2];
  // The prior in a cell's units: a full cell holds k² samples.
  const kappa = (opts.prior ?? 0) * k * k;
  const gs = sigma / k;
  const ratio: Float32Array[] = [];
  for (let c = 0; c < 3; c++) {
    blur(sU[c], gw, gh, gs);
    blur(sT[c], gw, gh, gs);
    const r = new Float32Array(gw * gh);
    for (let i = 0; i < r.length; i++) {
      // +1 per unit weight keeps near-black skin from exploding the ratio.
      const u = sU[c][i] + (gM > 0 ? (kappa * gU[c]) / gM : 0), t = sT[c][i] + (gM > 0 ? (kappa * gT[c]) / gM : 0);
      const g = opts.gain ? opts.gain[c] : 1;
      r[i] = u > 1e-3 ? Math.min(hi, Math.max(lo, (g * (t + 1e-3)) / (u + 1e-3))) : g;
    }
    ratio.push(r);
  }
  // Each column's grid cells and weight once (the same values as computed per pixel).
  const cols = Math.max(0, rb.x1 - rb.x0), cx0 = new Int32Array(cols), cx1 = new Int32Array(cols), cfx = new Float64Array(cols);
  for (let x = rb.x0; x < rb.x1; x++) {
    const fxc = Math.min(gw - 1, Math.max(0, (x + 0.5) / k - 0.5));
    const x0 = Math.floor(fxc);
    cx0[x - rb.x0] = x0; cx1[x - rb.x0] = Math.min(gw - 1, x0 + 1); cfx[x - rb.x0] = fxc - x0;
  }
  const [r0, r1, r2] = ratio;
  for (let y = rb.y0; y < rb.y1; y++) {
    const fyc = Math.min(gh - 1, Math.max(0, (y + 0.5) / k - 0.5));
    const y0 = Math.floor(fyc), y1 = Math.min(gh - 1, y0 + 1), fy = fyc - y0;
    for (let x = rb.x0; x < rb.x1; x++) {
      const p = y * w + x;
      if (region[p] <= 0 || !validU[p]) continue;
      const col = x - rb.x0, x0 = cx0[col], x1 = cx1[col], fx = cfx[col];
      const a = y0 * gw + x0, b = y0 * gw + x1, cc = y1 * gw + x0, d = y1 * gw + x1, i = p * 3;
      U[i] *= (r0[a] * (1 - fx) + r0[b] * fx) * (1 - fy) + (r0[cc] * (1 - fx) + r0[d] * fx) * fy;
      U[i + 1] *= (r1[a] * (1 - fx) + r1[b] * fx) * (1 - fy) + (r1[cc] * (1 - fx) + r1[d] * fx) * fy;
      U[i + 2] *= (r2[a] * (1 - fx) + r2[b] * fx) * (1 - fy) + (r2[cc] * (1 - fx) + r2[d] * fx) * fy;
    }
  }
}

/**
 * Per pixel in [0,1]: how much the template's skin sample at that pixel is its own facial hair
 * (beard, stubble, moustache) over skin the user's photo shows bare. Below the nose, a template
 * pixel darker than FACIAL_HAIR_DARK of the template's skin at the same column higher up (the
 * cheeks between the eyes and the nose, so side light cancels), where the user's pixel is not
 * (above FACIAL_HAIR_BARE of the user's own reference). Left out of the colour transfer's
 * samples (`TransferOptions.weight`): counted as skin, a dark beard made the ratio at the jaw
 * small and mixed the user's bare chin into a blue-grey band; without those samples the ratio
 * there is the skin's around it. `T`/`U` are the template and the user's warped photo in the
 * fused geometry, `mesh` the fused mesh in window coordinates, `skin` where samples are taken.
 */
export function facialHair(T: Float32Array, U: Float32Array, validU: Uint8Array, mesh: ArrayLike<number>, skin: Float32Array, w: number, h: number, fs: number, box: Box): Float32Array {
  const out = new Float32Array(w * h);
  const b = span(box, w, h);
  const lum = (img: Float32Array, p: number) => 0.299 * img[p * 3] + 0.587 * img[p * 3 + 1] + 0.114 * img[p * 3 + 2];
  // Reference rows: from the lower eyelids to the nose tip; hair is decided below the nose's base.
  const eyeY = (mesh[2 * 145 + 1] + mesh[2 * 374 + 1]) / 2, noseY = mesh[2 * 1 + 1], baseY = mesh[2 * 2 + 1];
  if (!(noseY > eyeY) || !(baseY >= noseY - 1)) return out;
  const r0 = Math.max(b.y0, Math.floor(eyeY + 0.03 * fs)), r1 = Math.min(b.y1, Math.ceil(noseY));
  // Per column, the mean luminance of the reference band's skin, then smoothed over ±0.06 face sizes.
  const cols = b.x1 - b.x0;
  if (cols < 4) return out;
  const sT = new Float32Array(cols), sU = new Float32Array(cols), n = new Float32Array(cols);
  for (let y = r0; y < r1; y++) for (let x = b.x0; x < b.x1; x++) {
    const p = y * w + x;
    if (!skin[p] || !validU[p]) continue;
    sT[x - b.x0] += lum(T, p); sU[x - b.x0] += lum(U, p); n[x - b.x0]++;
  }
  const rad = Math.max(1, 0.06 * fs);
  blur(sT, cols, 1, rad); blur(sU, cols, 1, rad); blur(n, cols, 1, rad);
  for (let y = Math.max(b.y0, Math.ceil(baseY)); y < b.y1; y++) for (let x = b.x0; x < b.x1; x++) {
    const p = y * w + x, c = x - b.x0;
    if (!skin[p] || !validU[p] || n[c] < 0.5) continue;
    const refT = sT[c] / n[c], refU = sU[c] / n[c];
    if (refT < 8 || refU < 8) continue;
    const dark = (FACIAL_HAIR_DARK - lum(T, p) / refT) / 0.1, bare = (lum(U, p) / refU - FACIAL_HAIR_BARE) / 0.1;
    const v = Math.min(1, Math.max(0, dark)) * Math.min(1, Math.max(0, bare));
    out[p] = v;
  }
  // A beard's hairs and the skin between them are one region: spread a little.
  blurBox(out, w, h, b, Math.max(1, 0.01 * fs));
  return out;
}
const FACIAL_HAIR_DARK = 0.8, FACIAL_HAIR_BARE = 0.7;
