// Pixel sampling for the task models: every model input is "some rectangle (possibly rotated)
// of the RGB image, resampled to N×N". One bilinear sampler with an affine map keeps the
// crop conventions of each model in one line of its own file instead of a resize per model.
import type { Box, Point, RgbImage } from './types.ts';

/** Maps an output pixel (u, v) to a source position: x = a*u + b*v + c, y = d*u + e*v + f. */
export interface Affine { a: number; b: number; c: number; d: number; e: number; f: number }

/** Output N×M pixels covering the axis-aligned source rectangle (x, y, w, h) (pixel-centre aligned, like cv.resize). */
export function rectAffine(x: number, y: number, w: number, h: number, outW: number, outH: number): Affine {
  const sx = w / outW, sy = h / outH;
  return { a: sx, b: 0, c: x + 0.5 * sx - 0.5, d: 0, e: sy, f: y + 0.5 * sy - 0.5 };
}

/** A square of side `side` centred on `center`, rotated by `angle` radians (image y down), sampled at out×out. */
export function squareAffine(center: Point, side: number, angle: number, out: number): Affine {
  const s = side / out, cos = Math.cos(angle) * s, sin = Math.sin(angle) * s;
  const h = out / 2;
  // (u,v) relative to the output centre, rotated then scaled into the image.
  return { a: cos, b: -sin, c: center.x - 0.5 + (cos - sin) * (0.5 - h), d: sin, e: cos, f: center.y - 0.5 + (sin + cos) * (0.5 - h) };
}

/** Continuous crop coordinates (0..out, as model outputs are) of a squareAffine crop -> image coordinates. */
export function squareToImage(center: Point, side: number, angle: number, out: number): (u: number, v: number) => Point {
  const s = side / out, cos = Math.cos(angle) * s, sin = Math.sin(angle) * s, h = out / 2;
  return (u, v) => ({ x: center.x + cos * (u - h) - sin * (v - h), y: center.y + sin * (u - h) + cos * (v - h) });
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.e - m.b * m.d;
  const a = m.e / det, b = -m.b / det, d = -m.d / det, e = m.a / det;
  return { a, b, c: -(a * m.c + b * m.f), d, e, f: -(d * m.c + e * m.f) };
}

export type Border = 'zero' | 'clamp';

/**
 * Samples out-of-image positions as black ('zero') or the nearest edge pixel ('clamp').
 * Returns interleaved RGB floats 0..255, row-major (HWC).
 */
export function sampleRgb(img: RgbImage, m: Affine, outW: number, outH: number, border: Border = 'zero'): Float32Array {
  const out = new Float32Array(outW * outH * 3);
  const { width: W, height: H, data } = img;
  const px = (x: number, y: number, c: number): number => {
    if (x < 0 || y < 0 || x >= W || y >= H) {
      if (border === 'zero') return 0;
      x = Math.min(Math.max(x, 0), W - 1);
      y = Math.min(Math.max(y, 0), H - 1);
    }
    return data[(y * W + x) * 3 + c];
  };
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      const sx = m.a * u + m.b * v + m.c, sy = m.d * u + m.e * v + m.f;
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
      for (let c = 0; c < 3; c++) {
        out[o++] = w00 * px(x0, y0, c) + w10 * px(x0 + 1, y0, c) + w01 * px(x0, y0 + 1, c) + w11 * px(x0 + 1, y0 + 1, c);
      }
    }
  }
  return out;
}

/** HWC RGB 0..255 -> NCHW planes, each value mapped by fn(value, channel). `order` picks source channels. */
export function toPlanes(hwc: Float32Array, pixels: number, fn: (v: number, c: number) => number, order: [number, number, number] = [0, 1, 2]): Float32Array {
  const out = new Float32Array(pixels * 3);
  for (let c = 0; c < 3; c++) {
    const src = order[c], base = c * pixels;
    for (let p = 0; p < pixels; p++) out[base + p] = fn(hwc[p * 3 + src], c);
  }
  return out;
}

/** The square box faceplugin's detector hands to its task models: side = box height, centred, clipped to the image. */
export function faceplugSquare(img: RgbImage, box: Box): Box {
  const side = box.height, cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const x1 = Math.max(0, cx - side / 2), y1 = Math.max(0, cy - side / 2);
  const x2 = Math.min(img.width - 1, cx + side / 2), y2 = Math.min(img.height - 1, cy + side / 2);
  return { x: x1, y: y1, width: Math.max(1, x2 - x1), height: Math.max(1, y2 - y1) };
}

export function softmax(a: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) max = Math.max(max, a[i]);
  const e = Array.from(a, (v) => Math.exp(v - max));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
}

/** Angle (radians, image y down) of the line from the left eye to the right eye of kps. */
export function eyeLineAngle(kps: Point[]): number {
  return Math.atan2(kps[1].y - kps[0].y, kps[1].x - kps[0].x);
}
