// The caller's logo (LogoAdd/LogoParam) composited onto a frame.
import type { RgbImage } from '../types.ts';

/** An RGBA image already sized to its rectangle, and where it goes (clipped to the frame). */
export interface LogoOverlay { rgba: Uint8Array; width: number; height: number; left: number; top: number }

/** Alpha-composites the logo onto the frame, clipped to it. */
export function overlay(frame: RgbImage, l: LogoOverlay): void {
  const d = frame.data;
  for (let y = 0; y < l.height; y++) {
    const fy = y + l.top;
    if (fy < 0 || fy >= frame.height) continue;
    for (let x = 0; x < l.width; x++) {
      const fx = x + l.left;
      if (fx < 0 || fx >= frame.width) continue;
      const s = (y * l.width + x) * 4, t = (fy * frame.width + fx) * 3;
      const a = l.rgba[s + 3] / 255;
      d[t] = d[t] * (1 - a) + l.rgba[s] * a;
      d[t + 1] = d[t + 1] * (1 - a) + l.rgba[s + 1] * a;
      d[t + 2] = d[t + 2] * (1 - a) + l.rgba[s + 2] * a;
    }
  }
}
