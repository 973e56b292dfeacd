// A photo's own border: a scanner's dark last row (the Yale photos), a video's letterbox bars.
// The template warp mirrors the picture at the frame's edge where it reaches past it; mirrored at
// the outer edge of such a border, the warp pulled the border inside the picture as a thin line
// across the neck (subject07.glasses <- amy1). The picture area is what lies inside the border:
// the warp mirrors at its edge, and the border itself is left as it is.

export interface Area { x0: number; y0: number; x1: number; y1: number }
interface Img { width: number; height: number; data: Uint8Array | Buffer; channels?: number }

// A border line is even (every channel within UNIFORM of the line's mean at ≥ EVEN_SHARE of its
// pixels) and of the first line's colour (within SAME). Up to THIN such lines followed by an
// uneven one are a border; more (bars) only when the next line differs from them by more than
// STEP at ≥ STEP_SHARE of its pixels. A wall or sky at the edge is even for many lines, and the
// picture's first line beside it is mostly that wall, not a step: no border.
// Beside a black bar (every channel's mean ≤ BLACK: a letterbox) the step is STEP_BLACK: a dark
// scene's first line beside the bar (a concert's curtain at 20–45 levels) differed from it by
// more than 12 levels at 99–100 % of its pixels but by more than 24 at only a third.
const UNIFORM = 12, EVEN_SHARE = 0.97, SAME = 10, STEP = 24, STEP_BLACK = 12, BLACK = 6, STEP_SHARE = 0.9, MAX_SHARE = 0.25, THIN = 3, SAMPLES = 256;

/** The picture inside the frame's border (the whole frame when it has none), on the edges asked for (all by default). */
export function pictureArea(img: Img, edges: { top?: boolean; bottom?: boolean; left?: boolean; right?: boolean } = { top: true, bottom: true, left: true, right: true }): Area {
  const { width: W, height: H } = img, C = img.channels ?? 3, d = img.data;
  // Line k of an edge: `n` pixels, pixel i at offset at(k, i).
  const edge = (len: number, depth: number, at: (k: number, i: number) => number): number => {
    if (len < 8 || depth < 8) return 0;
    // At most SAMPLES pixels of a line (a 1080p frame's pillarbox bars were 100 ms read whole).
    const step = Math.max(1, Math.floor(len / SAMPLES)), idx: number[] = [];
    for (let i = 0; i < len; i += step) idx.push(i);
    const n = idx.length;
    const mean = (k: number) => { const m = [0, 0, 0]; for (const i of idx) { const o = at(k, i); m[0] += d[o]; m[1] += d[o + 1]; m[2] += d[o + 2]; } return [m[0] / n, m[1] / n, m[2] / n]; };
    const even = (k: number, m: number[]) => { let ok = 0; for (const i of idx) { const o = at(k, i); if (Math.abs(d[o] - m[0]) <= UNIFORM && Math.abs(d[o + 1] - m[1]) <= UNIFORM && Math.abs(d[o + 2] - m[2]) <= UNIFORM) ok++; } return ok >= EVEN_SHARE * n; };
    const m0 = mean(0);
    if (!even(0, m0)) return 0;
    let k = 1;
    for (; k < Math.floor(MAX_SHARE * depth); k++) {
      const m = mean(k);
      if (Math.max(Math.abs(m[0] - m0[0]), Math.abs(m[1] - m0[1]), Math.abs(m[2] - m0[2])) > SAME || !even(k, m)) break;
    }
    if (k >= Math.floor(MAX_SHARE * depth)) return 0;
    // A thin even line (a scan's edge) before an uneven picture line is a border; a thicker one
    // (letterbox bars) only when the picture's first line steps away from it almost everywhere.
    if (k <= THIN && !even(k, mean(k))) return k;
    const stepFrom = Math.max(m0[0], m0[1], m0[2]) <= BLACK ? STEP_BLACK : STEP;
    let steps = 0;
    for (const i of idx) { const o = at(k, i); if (Math.max(Math.abs(d[o] - m0[0]), Math.abs(d[o + 1] - m0[1]), Math.abs(d[o + 2] - m0[2])) > stepFrom) steps++; }
    return steps >= STEP_SHARE * n ? k : 0;
  };
  const top = edges.top ? edge(W, H, (k, i) => (k * W + i) * C) : 0;
  const bottom = edges.bottom ? edge(W, H, (k, i) => ((H - 1 - k) * W + i) * C) : 0;
  const left = edges.left ? edge(H, W, (k, i) => (i * W + k) * C) : 0;
  const right = edges.right ? edge(H, W, (k, i) => (i * W + W - 1 - k) * C) : 0;
  return { x0: left, y0: top, x1: W - right, y1: H - bottom };
}
