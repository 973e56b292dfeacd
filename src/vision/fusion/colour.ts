// Colour/lighting transfer: the warped user face is multiplied by blur(T)/blur(U), both blurs
// taken over the skin only (normalised convolution) on a coarse grid, so the template's
// low-frequency shading and skin tone replace the user's while the user's detail stays.
import { blur } from './raster.ts';

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
  const gU = [0, 0, 0], gT = [0, 0, 0];
  let gM = 0;
  for (let y = sb.y0; y < sb.y1; y++) {
    const gy = (y / k) | 0;
    for (let x = sb.x0; x < sb.x1; x++) {
      const p = y * w + x;
      const m = skin[p] * validU[p] * (opts.weight ? opts.weight[p] : 1);
      if (m <= 0) continue;
      const g = gy * gw + ((x / k) | 0);
      for (let c = 0; c < 3; c++) { sU[c][g] += m * U[p * 3 + c]; sT[c][g] += m * T[p * 3 + c]; gU[c] += m * U[p * 3 + c]; gT[c] += m * T[p * 3 + c]; }
      gM += m;
    }
  }
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
  for (let y = rb.y0; y < rb.y1; y++) {
    const fyc = Math.min(gh - 1, Math.max(0, (y + 0.5) / k - 0.5));
    const y0 = Math.floor(fyc), y1 = Math.min(gh - 1, y0 + 1), fy = fyc - y0;
    for (let x = rb.x0; x < rb.x1; x++) {
      const p = y * w + x;
      if (region[p] <= 0 || !validU[p]) continue;
      const fxc = Math.min(gw - 1, Math.max(0, (x + 0.5) / k - 0.5));
      const x0 = Math.floor(fxc), x1 = Math.min(gw - 1, x0 + 1), fx = fxc - x0;
      const a = y0 * gw + x0, b = y0 * gw + x1, cc = y1 * gw + x0, d = y1 * gw + x1;
      for (let c = 0; c < 3; c++) {
        const r = ratio[c];
        const v = (r[a] * (1 - fx) + r[b] * fx) * (1 - fy) + (r[cc] * (1 - fx) + r[d] * fx) * fy;
        U[p * 3 + c] *= v;
      }
    }
  }
}
