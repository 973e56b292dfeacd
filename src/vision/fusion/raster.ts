// Small float-raster primitives for fusion: polygon fill, Gaussian-like blur, pyramid steps.

/** Fills a polygon (x/y interleaved, window coordinates) into a w×h mask with value 1 (pixel centres). */
export function fillPolygon(poly: ArrayLike<number>, w: number, h: number, into?: Float32Array): Float32Array {
  const m = into ?? new Float32Array(w * h);
  const n = poly.length / 2;
  const xs: number[] = [];
  let ymin = Infinity, ymax = -Infinity;
  for (let i = 0; i < n; i++) { ymin = Math.min(ymin, poly[2 * i + 1]); ymax = Math.max(ymax, poly[2 * i + 1]); }
  const y0 = Math.max(0, Math.floor(ymin)), y1 = Math.min(h - 1, Math.ceil(ymax));
  for (let y = y0; y <= y1; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const yi = poly[2 * i + 1], yj = poly[2 * j + 1];
      if ((yi > cy) !== (yj > cy)) xs.push(poly[2 * i] + ((cy - yi) / (yj - yi)) * (poly[2 * j] - poly[2 * i]));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const a = Math.max(0, Math.ceil(xs[k] - 0.5)), b = Math.min(w - 1, Math.floor(xs[k + 1] - 0.5));
      if (b >= a) m.fill(1, y * w + a, y * w + b + 1);
    }
  }
  return m;
}

// One running box sum per line, clamped at the ends. The clamps only matter within r of a
// line's ends, so the middle runs without them; the vertical pass keeps one sum per column and
// walks the rows in memory order. The sums are the same doubles added in the same order as a
// plain per-line loop, so the result is too.
function boxPass(src: Float32Array, dst: Float32Array, w: number, h: number, r: number, horizontal: boolean): void {
  if (horizontal) boxRows(src, dst, w, h, r); else boxColumns(src, dst, w, h, r);
}

function boxRows(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const norm = 1 / (2 * r + 1), last = w - 1;
  const a = Math.min(r, w), b = Math.max(a, w - 1 - r);
  for (let base = 0; base < w * h; base += w) {
    let acc = 0;
    for (let k = -r; k <= r; k++) acc += src[base + Math.min(last, Math.max(0, k))];
    let i = 0;
    for (; i < a; i++) { dst[base + i] = acc * norm; acc += src[base + Math.min(last, i + r + 1)] - src[base + Math.max(0, i - r)]; }
    for (; i < b; i++) { dst[base + i] = acc * norm; acc += src[base + i + r + 1] - src[base + i - r]; }
    for (; i < w; i++) { dst[base + i] = acc * norm; acc += src[base + Math.min(last, i + r + 1)] - src[base + Math.max(0, i - r)]; }
  }
}

function boxColumns(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const norm = 1 / (2 * r + 1), last = h - 1;
  const acc = new Float64Array(w);
  for (let k = -r; k <= r; k++) { const row = Math.min(last, Math.max(0, k)) * w; for (let x = 0; x < w; x++) acc[x] += src[row + x]; }
  for (let i = 0; i < h; i++) {
    const out = i * w, add = Math.min(last, i + r + 1) * w, sub = Math.max(0, i - r) * w;
    for (let x = 0; x < w; x++) { dst[out + x] = acc[x] * norm; acc[x] += src[add + x] - src[sub + x]; }
  }
}

/** Approximate Gaussian blur of a single-channel raster (three box passes), in place. */
export function blur(m: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2);
  if (r < 1) return m;
  const tmp = new Float32Array(m.length);
  for (let p = 0; p < 3; p++) {
    boxPass(m, tmp, w, h, r, true);
    boxPass(tmp, m, w, h, r, false);
  }
  return m;
}

/** 2× reduction with a [1 4 6 4 1]/16 kernel, C interleaved channels, clamped edges. */
export function reduce(src: Float32Array, w: number, h: number, C: number): { data: Float32Array; w: number; h: number } {
  const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
  const tmp = new Float32Array(w2 * h * C);
  // Clamped column offsets for the 5 taps of each output column, computed once.
  const xo = new Int32Array(w2 * 5);
  for (let x2 = 0; x2 < w2; x2++) for (let t = 0; t < 5; t++) xo[x2 * 5 + t] = Math.min(w - 1, Math.max(0, 2 * x2 + t - 2)) * C;
  for (let y = 0; y < h; y++) {
    const row = y * w * C, orow = y * w2 * C;
    for (let x2 = 0; x2 < w2; x2++) {
      const b = x2 * 5, a0 = row + xo[b], a1 = row + xo[b + 1], a2 = row + xo[b + 2], a3 = row + xo[b + 3], a4 = row + xo[b + 4];
      const o = orow + x2 * C;
      for (let c = 0; c < C; c++) tmp[o + c] = (src[a0 + c] + src[a4 + c] + 4 * (src[a1 + c] + src[a3 + c]) + 6 * src[a2 + c]) * 0.0625;
    }
  }
  const out = new Float32Array(w2 * h2 * C);
  const rowLen = w2 * C;
  for (let y2 = 0; y2 < h2; y2++) {
    const r = (t: number) => Math.min(h - 1, Math.max(0, 2 * y2 + t - 2)) * rowLen;
    const r0 = r(0), r1 = r(1), r2 = r(2), r3 = r(3), r4 = r(4), o = y2 * rowLen;
    for (let i = 0; i < rowLen; i++) out[o + i] = (tmp[r0 + i] + tmp[r4 + i] + 4 * (tmp[r1 + i] + tmp[r3 + i]) + 6 * tmp[r2 + i]) * 0.0625;
  }
  return { data: out, w: w2, h: h2 };
}

/** blur() restricted to a box (padded by the blur's reach) of a w×h raster, in place: the rest is left as is. */
export function blurBox(m: Float32Array, w: number, h: number, box: { x0: number; y0: number; x1: number; y1: number }, sigma: number): Float32Array {
  const reach = 3 * Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2) + 2;
  const x0 = Math.max(0, Math.floor(box.x0) - reach), y0 = Math.max(0, Math.floor(box.y0) - reach);
  const x1 = Math.min(w, Math.ceil(box.x1) + reach), y1 = Math.min(h, Math.ceil(box.y1) + reach);
  const bw = x1 - x0, bh = y1 - y0;
  if (bw <= 0 || bh <= 0) return m;
  const sub = new Float32Array(bw * bh);
  for (let y = 0; y < bh; y++) sub.set(m.subarray((y + y0) * w + x0, (y + y0) * w + x1), y * bw);
  blur(sub, bw, bh, sigma);
  for (let y = 0; y < bh; y++) m.set(sub.subarray(y * bw, (y + 1) * bw), (y + y0) * w + x0);
  return m;
}
