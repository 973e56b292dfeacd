// A phone stores a portrait video as landscape frames plus a display matrix saying how to turn
// them. Decoded frames are turned upright here (as FFmpeg's own tools do by default), so the
// tracker, the fusion and the result all see the picture as it is shown; the result is written
// upright, without a matrix.

/** Clockwise turn in degrees (0, 90, 180 or 270) from the stream's display matrix (9 int32, 16.16 and 2.30 fixed point); 0 for none, a mirror or a non-right angle. */
export function turnOfMatrix(m: Buffer | null): number {
  if (!m || m.length < 36) return 0;
  const a = m.readInt32LE(0) / 65536, b = m.readInt32LE(4) / 65536, c = m.readInt32LE(12) / 65536, d = m.readInt32LE(16) / 65536;
  const s0 = Math.hypot(a, c), s1 = Math.hypot(b, d);
  if (!s0 || !s1 || a * d - b * c < 0) return 0;
  // av_display_rotation_get is the counter-clockwise angle; fftools' get_rotation negates it.
  let theta = Math.round((Math.atan2(b / s1, a / s0) * 180) / Math.PI);
  theta -= 360 * Math.floor(theta / 360 + 0.9 / 360);
  const q = Math.round(theta / 90) * 90;
  return Math.abs(theta - q) <= 1 ? q % 360 : 0;
}

/** The display matrix of a clockwise turn (av_display_rotation_set), for writing test clips as phones do. */
export function matrixOfTurn(deg: number): Buffer {
  const r = (-deg * Math.PI) / 180, c = Math.cos(r), s = Math.sin(r);
  const m = Buffer.alloc(36);
  m.writeInt32LE(Math.round(c * 65536), 0);
  m.writeInt32LE(Math.round(-s * 65536), 4);
  m.writeInt32LE(Math.round(s * 65536), 12);
  m.writeInt32LE(Math.round(c * 65536), 16);
  m.writeInt32LE(1 << 30, 32);
  return m;
}

/** RGB24 `src` (w×h) turned clockwise by `deg` (90, 180, 270); the result's size is h×w for 90 and 270. */
export function turnRgb(src: Uint8Array, w: number, h: number, deg: number): { rgb: Buffer; width: number; height: number } {
  const quarter = deg === 90 || deg === 270;
  const W = quarter ? h : w, H = quarter ? w : h;
  const out = Buffer.allocUnsafe(w * h * 3);
  // Per output row, the source pixel shown at its first column and the step to the next one
  // (in RGB offsets): 90° walks a source column upwards, 270° downwards, 180° a row backwards.
  const first = (y: number) => (deg === 90 ? ((h - 1) * w + y) * 3 : deg === 180 ? ((h - 1 - y) * w + w - 1) * 3 : deg === 270 ? (w - 1 - y) * 3 : y * w * 3);
  const step = deg === 90 ? -w * 3 : deg === 180 ? -3 : deg === 270 ? w * 3 : 3;
  for (let y = 0, o = 0; y < H; y++) {
    for (let x = 0, s = first(y); x < W; x++, s += step, o += 3) {
      out[o] = src[s]; out[o + 1] = src[s + 1]; out[o + 2] = src[s + 2];
    }
  }
  return { rgb: out, width: W, height: H };
}
