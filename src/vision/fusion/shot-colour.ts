// Colour matched per shot (video): the engine's colour transfer takes the template's skin tone
// from each frame, so the fused face's tone follows every frame's small changes (a hand or the
// microphone entering the skin, the mouth opening, the encoder's noise) and flickers. A video
// measures the template's skin once per shot (at its cut flags) and passes it to every frame of
// that shot as `colourReference`; the engine then scales its per-frame colour ratio by
// reference ÷ this frame's skin, so the face keeps one tone within a shot and changes at cuts.
// The local shading (where the light falls on the face) still comes from each frame.
import { ring, type Pts } from './geometry.ts';
import { fillPolygon } from './raster.ts';
import { LIPS_INNER, EYE_L, EYE_R, loop } from './regions.ts';
import type { Raster } from './warp.ts';

export type Rgb = [number, number, number];

/** The skin the reference is measured on: the face inside 0.85 of its outline (as the colour transfer's skin), minus the mouth and eye openings. */
const SKIN_SCALE = 0.85;

/**
 * Mean RGB of the template's skin under `mesh` (468 points, x/y interleaved, `img` coordinates):
 * what `colourReference` holds, and what the engine measures on each frame to compare with it.
 */
export function templateSkinColour(img: Raster, mesh: ArrayLike<number>): Rgb | null {
  const m = Float64Array.from({ length: 936 }, (_, i) => mesh[i]);
  const skin = ring(m, SKIN_SCALE);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < skin.length; i += 2) { x0 = Math.min(x0, skin[i]); x1 = Math.max(x1, skin[i]); y0 = Math.min(y0, skin[i + 1]); y1 = Math.max(y1, skin[i + 1]); }
  const bx0 = Math.max(0, Math.floor(x0)), by0 = Math.max(0, Math.floor(y0));
  const bx1 = Math.min(img.width, Math.ceil(x1) + 1), by1 = Math.min(img.height, Math.ceil(y1) + 1);
  const w = bx1 - bx0, h = by1 - by0;
  if (w <= 0 || h <= 0) return null;
  const local = (p: Pts) => { const o = new Float64Array(p); for (let i = 0; i < o.length; i += 2) { o[i] -= bx0; o[i + 1] -= by0; } return o; };
  const inside = fillPolygon(local(skin), w, h);
  const holes = new Float32Array(w * h);
  for (const idx of [LIPS_INNER, EYE_R, EYE_L]) fillPolygon(local(loop(m, idx)), w, h, holes);
  const C = img.channels ?? 3;
  const d = img.data;
  const s = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const q = y * w + x;
      if (!inside[q] || holes[q]) continue;
      const i = ((y + by0) * img.width + x + bx0) * C;
      s[0] += d[i]; s[1] += d[i + 1]; s[2] += d[i + 2];
      n++;
    }
  }
  return n > 0 ? [s[0] / n, s[1] / n, s[2] / n] : null;
}

/** Per channel, reference ÷ current, bounded (a reference from a very different frame must not blow the face out). */
export function colourGain(reference: Rgb, current: Rgb | null): Rgb {
  const g = (c: number) => (current && current[c] > 1 ? Math.min(1.5, Math.max(1 / 1.5, (reference[c] + 1) / (current[c] + 1))) : 1);
  return [g(0), g(1), g(2)];
}
