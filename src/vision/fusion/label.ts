// The visible "AI-GENERATED" mark, drawn with a built-in 5×7 pixel font so that it renders
// the same everywhere (no system fonts, no SVG renderer involved).
import type { RgbImage } from '../types.ts';

const GLYPHS: Record<string, string[]> = {
  A: ['01110', '10001', '10001', '11111', '10001', '10001', '10001'],
  I: ['01110', '00100', '00100', '00100', '00100', '00100', '01110'],
  '-': ['00000', '00000', '00000', '11111', '00000', '00000', '00000'],
  G: ['01110', '10001', '10000', '10111', '10001', '10001', '01111'],
  E: ['11111', '10000', '10000', '11110', '10000', '10000', '11111'],
  N: ['10001', '11001', '10101', '10011', '10001', '10001', '10001'],
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  T: ['11111', '00100', '00100', '00100', '00100', '00100', '00100'],
  D: ['11110', '10001', '10001', '10001', '10001', '10001', '11110'],
};

export const DEFAULT_LABEL = 'AI-GENERATED';

export interface LabelBox { x: number; y: number; width: number; height: number }

/** Where the default label goes on a w×h image (bottom-right, scaled with the image). */
export function labelBox(w: number, h: number, text = DEFAULT_LABEL): LabelBox & { scale: number; pad: number } {
  const scale = Math.max(1, Math.round(Math.min(w, h) / 270));
  const pad = 2 * scale;
  const width = text.length * 6 * scale - scale + 2 * pad, height = 7 * scale + 2 * pad;
  const margin = Math.max(2, Math.round(Math.min(w, h) / 100));
  return { x: Math.max(0, w - width - margin), y: Math.max(0, h - height - margin), width: Math.min(width, w), height: Math.min(height, h), scale, pad };
}

/** Draws the label in place: a translucent dark box with white letters. */
export function drawLabel(img: RgbImage, text = DEFAULT_LABEL): LabelBox {
  const b = labelBox(img.width, img.height, text);
  const { data, width: W } = img;
  for (let y = b.y; y < b.y + b.height && y < img.height; y++) {
    for (let x = b.x; x < b.x + b.width && x < W; x++) {
      const i = (y * W + x) * 3;
      data[i] = data[i] * 0.45; data[i + 1] = data[i + 1] * 0.45; data[i + 2] = data[i + 2] * 0.45;
    }
  }
  let cx = b.x + b.pad;
  for (const ch of text) {
    const g = GLYPHS[ch];
    if (g) {
      for (let r = 0; r < 7; r++) {
        for (let c = 0; c < 5; c++) {
          if (g[r][c] !== '1') continue;
          for (let dy = 0; dy < b.scale; dy++) {
            for (let dx = 0; dx < b.scale; dx++) {
              const x = cx + c * b.scale + dx, y = b.y + b.pad + r * b.scale + dy;
              if (x >= W || y >= img.height) continue;
              const i = (y * W + x) * 3;
              data[i] = 255; data[i + 1] = 255; data[i + 2] = 255;
            }
          }
        }
      }
    }
    cx += 6 * b.scale;
  }
  return b;
}
