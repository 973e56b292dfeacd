// Synthetic occluders pasted onto a template face (fusion regression tests and the quality
// bench): a skin-coloured hand with fingers over one cheek, a dark glasses bar across the eyes,
// a microphone bar up to the mouth, dark hair strands across forehead and eye. Placed from the
// face's own mesh; returns the new image and the occluder's coverage (0..1 per pixel).
import type { RgbImage } from '../../src/vision/types.ts';

export type OccluderKind = 'hand' | 'glasses-bar' | 'microphone' | 'hair';

type Shape = (x: number, y: number) => { a: number; rgb: [number, number, number] } | null;

export function pasteOccluder(img: RgbImage, mesh: Float64Array, kind: OccluderKind): { img: RgbImage; mask: Float32Array } {
  const P = (i: number) => [mesh[2 * i], mesh[2 * i + 1]] as const;
  const [lx, ly] = P(33), [rx, ry] = P(263), [cx, cy] = P(152), [fx, fy] = P(10);
  const fs = Math.hypot(cx - fx, cy - fy); // forehead to chin
  const ex = rx - lx, ey = ry - ly, el = Math.hypot(ex, ey), ux = ex / el, uy = ey / el; // eye axis
  const vx = -uy, vy = ux; // down the face
  const local = (x: number, y: number, ox: number, oy: number) => [(x - ox) * ux + (y - oy) * uy, (x - ox) * vx + (y - oy) * vy];
  let shape: Shape;
  if (kind === 'hand') {
    // Palm over the image-right cheek, four fingers reaching up to the eye; lit from above.
    const [px, py] = P(425);
    shape = (x, y) => {
      const [a, b] = local(x, y, px, py);
      let inside = (a / (0.2 * fs)) ** 2 + ((b - 0.08 * fs) / (0.22 * fs)) ** 2 <= 1;
      for (let f = 0; f < 4; f++) {
        const fa = (f - 1.5) * 0.085 * fs;
        if (((a - fa) / (0.035 * fs)) ** 2 + ((b + 0.2 * fs) / (0.17 * fs)) ** 2 <= 1) inside = true;
      }
      if (!inside) return null;
      const shade = 1 - 0.15 * (b / fs + 0.3);
      return { a: 1, rgb: [224 * shade, 172 * shade, 140 * shade] };
    };
  } else if (kind === 'glasses-bar') {
    const mx = (lx + rx) / 2, my = (ly + ry) / 2;
    shape = (x, y) => { const [a, b] = local(x, y, mx, my); return Math.abs(a) < 0.75 * el && Math.abs(b + 0.01 * fs) < 0.05 * fs ? { a: 1, rgb: [24, 24, 28] } : null; };
  } else if (kind === 'microphone') {
    const [mx, my] = P(61);
    shape = (x, y) => {
      const [a, b] = local(x, y, mx, my);
      if (a * a + (b - 0.05 * fs) ** 2 < (0.07 * fs) ** 2) return { a: 1, rgb: [40, 40, 44] };
      return Math.abs(a) < 0.03 * fs && b > 0.05 * fs && b < 0.6 * fs ? { a: 1, rgb: [20, 20, 22] } : null;
    };
  } else {
    // Hair strands: sine curves falling from the forehead over the image-left eye.
    shape = (x, y) => {
      const [a, b] = local(x, y, fx, fy);
      for (let s = 0; s < 7; s++) {
        const x0 = -0.32 * fs + s * 0.045 * fs;
        const curve = x0 + 0.04 * fs * Math.sin(b / (0.09 * fs) + s);
        if (b > -0.05 * fs && b < 0.5 * fs && Math.abs(a - curve) < 0.006 * fs + 1) return { a: 1, rgb: [58, 40, 30] };
      }
      return null;
    };
  }
  const out = Buffer.from(img.data);
  const mask = new Float32Array(img.width * img.height);
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const s = shape(x + 0.5, y + 0.5);
    if (!s) continue;
    const p = y * img.width + x;
    mask[p] = s.a;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(s.rgb[c]);
  }
  return { img: { width: img.width, height: img.height, data: out }, mask };
}

/**
 * A dark stubble beard painted on a face (the fusion beard-band test): below the nose's base,
 * inside the mesh's face oval, the lips left bare; each pixel is the skin darkened to a third
 * and tinted blue-grey, with per-pixel hair noise. Returns the new image and the beard's coverage.
 */
export function pasteBeard(img: RgbImage, mesh: Float64Array, oval: Float32Array, lips: Float32Array): { img: RgbImage; mask: Float32Array } {
  const out = Buffer.from(img.data);
  const mask = new Float32Array(img.width * img.height);
  const baseY = mesh[2 * 2 + 1];
  for (let y = Math.max(0, Math.ceil(baseY)); y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const p = y * img.width + x;
    if (!oval[p] || lips[p]) continue;
    // A deterministic hash: hairs lighter and darker.
    const n = (((x * 73856093) ^ (y * 19349663)) >>> 0) % 1000 / 1000;
    const k = 0.28 + 0.12 * n;
    const tint = [38, 42, 54];
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(img.data[p * 3 + c] * k + tint[c]);
    mask[p] = 1;
  }
  return { img: { width: img.width, height: img.height, data: out }, mask };
}
