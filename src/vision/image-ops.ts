// Pixel sampling into model input tensors. Plain loops over packed RGB: the crops are small
// (≤ 320x240), so this stays a few ms and needs no native round trip.
import type { RgbImage } from './types.ts';

export type ChannelOrder = 'RGB' | 'BGR' | 'GRAY';

export interface TensorSpec {
  width: number;
  height: number;
  channels: ChannelOrder;
  mean: number;
  std: number;
}

/** Halves the image with a 2x2 box filter (odd last row/column dropped). */
export function halve(img: RgbImage): RgbImage {
  const w = img.width >> 1, h = img.height >> 1;
  const out = Buffer.alloc(Math.max(1, w * h * 3));
  const src = img.data, sw = img.width;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * sw * 3, r1 = r0 + sw * 3;
    let o = y * w * 3;
    for (let x = 0; x < w; x++) {
      const p = x * 6;
      for (let c = 0; c < 3; c++, o++) {
        out[o] = (src[r0 + p + c] + src[r0 + p + 3 + c] + src[r1 + p + c] + src[r1 + p + 3 + c] + 2) >> 2;
      }
    }
  }
  return { width: Math.max(1, w), height: Math.max(1, h), data: out };
}

/**
 * Power-of-two pyramid built lazily, so that downscaled samples read a level at most 2x larger
 * than the output (bilinear from there does not alias) instead of averaging many pixels.
 */
export class ImagePyramid {
  private readonly levels: RgbImage[];
  constructor(readonly base: RgbImage) {
    this.levels = [base];
  }
  /** The level and its scale (base pixels per level pixel) for `factor` base pixels per output pixel. */
  pick(factor: number): { img: RgbImage; scale: number } {
    let k = 0;
    while ((1 << (k + 1)) <= factor && this.levelDims(k + 1)) k++;
    while (this.levels.length <= k) this.levels.push(halve(this.levels[this.levels.length - 1]));
    return { img: this.levels[k], scale: 1 << k };
  }
  private levelDims(k: number): boolean {
    return (this.base.width >> k) >= 8 && (this.base.height >> k) >= 8;
  }
}

/**
 * Samples the source rectangle (may extend past the image: outside is black) into an NCHW
 * float tensor, bilinear from the pyramid level that is at most 2x the output resolution.
 */
export function rectToTensor(src: RgbImage | ImagePyramid, sx: number, sy: number, sw: number, sh: number, spec: TensorSpec, out?: Float32Array): Float32Array {
  const { width: W, height: H, channels, mean, std } = spec;
  const pyr = src instanceof ImagePyramid ? src : new ImagePyramid(src);
  const { img, scale } = pyr.pick(Math.min(sw / W, sh / H));
  const planes = channels === 'GRAY' ? 1 : 3;
  const t = out ?? new Float32Array(planes * W * H);
  const plane = W * H;
  const fx = sw / W / scale, fy = sh / H / scale;
  const ox = sx / scale, oy = sy / scale;
  const iw = img.width, ih = img.height, data = img.data;
  const inv = 1 / std;
  // Per-column source indices and weights, computed once.
  const cx0 = new Int32Array(W), cx1 = new Int32Array(W), wx = new Float32Array(W);
  for (let x = 0; x < W; x++) {
    const u = ox + (x + 0.5) * fx - 0.5;
    const f = Math.floor(u);
    cx0[x] = f; cx1[x] = f + 1; wx[x] = u - f;
  }
  const bgr = channels === 'BGR';
  for (let y = 0; y < H; y++) {
    const v = oy + (y + 0.5) * fy - 0.5;
    const y0 = Math.floor(v), ay = v - y0;
    const y0ok = y0 >= 0 && y0 < ih, y1ok = y0 + 1 >= 0 && y0 + 1 < ih;
    const r0 = y0 * iw, r1 = (y0 + 1) * iw;
    for (let x = 0; x < W; x++) {
      const x0 = cx0[x], x1 = cx1[x], ax = wx[x];
      const x0ok = x0 >= 0 && x0 < iw, x1ok = x1 >= 0 && x1 < iw;
      const w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
      let r = 0, g = 0, b = 0, p: number;
      if (y0ok && x0ok) { p = (r0 + x0) * 3; r += w00 * data[p]; g += w00 * data[p + 1]; b += w00 * data[p + 2]; }
      if (y0ok && x1ok) { p = (r0 + x1) * 3; r += w01 * data[p]; g += w01 * data[p + 1]; b += w01 * data[p + 2]; }
      if (y1ok && x0ok) { p = (r1 + x0) * 3; r += w10 * data[p]; g += w10 * data[p + 1]; b += w10 * data[p + 2]; }
      if (y1ok && x1ok) { p = (r1 + x1) * 3; r += w11 * data[p]; g += w11 * data[p + 1]; b += w11 * data[p + 2]; }
      const i = y * W + x;
      if (planes === 1) t[i] = (0.299 * r + 0.587 * g + 0.114 * b - mean) * inv;
      else if (bgr) { t[i] = (b - mean) * inv; t[plane + i] = (g - mean) * inv; t[2 * plane + i] = (r - mean) * inv; }
      else { t[i] = (r - mean) * inv; t[plane + i] = (g - mean) * inv; t[2 * plane + i] = (b - mean) * inv; }
    }
  }
  return t;
}

/** Bilinear sample at (x, y) in pixel-centre coordinates; outside the image is black. */
export function bilinear(img: RgbImage, x: number, y: number, out: number[]): void {
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const ax = x - x0, ay = y - y0;
  const { width: W, height: H, data } = img;
  out[0] = out[1] = out[2] = 0;
  for (let dy = 0; dy < 2; dy++) {
    const yy = y0 + dy;
    if (yy < 0 || yy >= H) continue;
    const wy = dy ? ay : 1 - ay;
    for (let dx = 0; dx < 2; dx++) {
      const xx = x0 + dx;
      if (xx < 0 || xx >= W) continue;
      const w = wy * (dx ? ax : 1 - ax);
      if (w === 0) continue;
      const p = (yy * W + xx) * 3;
      out[0] += w * data[p]; out[1] += w * data[p + 1]; out[2] += w * data[p + 2];
    }
  }
}

/** 2x3 affine matrix mapping source (image) coordinates to destination coordinates. */
export type Affine = [number, number, number, number, number, number];

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/** Warps the image through `m` (source -> destination) into a size x size RGB crop. */
export function warpAffine(img: RgbImage, m: Affine, width: number, height: number): RgbImage {
  const inv = invertAffine(m);
  const out = Buffer.alloc(width * height * 3);
  const rgb = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = inv[0] * x + inv[1] * y + inv[2];
      const sy = inv[3] * x + inv[4] * y + inv[5];
      bilinear(img, sx, sy, rgb);
      const p = (y * width + x) * 3;
      out[p] = Math.round(rgb[0]); out[p + 1] = Math.round(rgb[1]); out[p + 2] = Math.round(rgb[2]);
    }
  }
  return { width, height, data: out };
}

/** The image turned clockwise by 90, 180 or 270 degrees. */
export function rotateImage(img: RgbImage, degrees: 90 | 180 | 270): RgbImage {
  const { width: W, height: H, data } = img;
  const w = degrees === 180 ? W : H, h = degrees === 180 ? H : W;
  const out = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let nx: number, ny: number;
      if (degrees === 90) { nx = H - 1 - y; ny = x; }
      else if (degrees === 180) { nx = W - 1 - x; ny = H - 1 - y; }
      else { nx = y; ny = W - 1 - x; }
      const s = (y * W + x) * 3, d = (ny * w + nx) * 3;
      out[d] = data[s]; out[d + 1] = data[s + 1]; out[d + 2] = data[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}

/** Maps a point of the image rotated clockwise by `degrees` back to the original image. */
export function unrotatePoint(x: number, y: number, degrees: 90 | 180 | 270, W: number, H: number): { x: number; y: number } {
  // Continuous coordinates: the rotated image of a W x H original is H x W (90/270).
  if (degrees === 90) return { x: y, y: H - x };
  if (degrees === 180) return { x: W - x, y: H - y };
  return { x: W - y, y: x };
}
