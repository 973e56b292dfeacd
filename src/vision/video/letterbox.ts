// A video's letterbox or pillarbox bars (and an encoder's thin edge lines), found over the whole
// clip. The image engine finds a photo's border on the photo alone (fusion/frame-border.ts): bars
// count there only when the picture's first line steps away from them almost everywhere, so that
// a wall or sky at the edge is not taken for a border. A dark concert scene's first line beside a
// black bar is mostly dark too: measured on the Hamilton clip with 60-line bars, no frame's bars
// were found and the fused forehead was painted into the top bar (10,141 bar pixels over 24 in 12
// frames). In a video a bar is what stays the same colour, even across the line, in every frame;
// the picture changes. So the lines are followed through the clip (while it is tracked): from each
// edge, the lines that are even around the edge line's first colour in every frame are border.

import type { Area } from '../fusion/frame-border.ts';

// A line is even when at least EVEN_SHARE of its sampled pixels lie within UNIFORM of the edge
// line's colour in the first frame. A bar is such lines in every frame, CORE of them at least; the
// codec's ringing next to the picture (measured at crf 28: the last 2 lines of a 60-line black bar
// had up to 20% of their pixels 6–24 levels off in some frame) is border too, up to RING more lines
// even within RINGING (a transform block's reach; more would take a dark scene's first lines). A static shot's dark curtain at the edge (28–46 levels over 24 frames of
// the Hamilton clip) is even within RINGING but not within UNIFORM: no bar. Bars deeper than
// MAX_SHARE of the frame are not bars (a black screen); under MIN_FRAMES frames nothing is decided
// (a still picture's sky is even in every one of its frames).
const UNIFORM = 5, RINGING = 24, CORE = 2, RING = 6, EVEN_SHARE = 0.97, MAX_SHARE = 0.25, SAMPLES = 256, MIN_FRAMES = 8;

/** `strict` / `loose`: lines from the edge even within UNIFORM / RINGING in every frame so far. */
interface Edge { depth: number; at: (k: number, i: number) => number; idx: number[]; ref: number[] | null; strict: number; loose: number }

/** Follows the frame's four edges through a clip; `area()` is the picture inside the bars. */
export class BarsOverTime {
  private readonly edges: Edge[];
  private frames = 0;

  constructor(readonly width: number, readonly height: number) {
    const W = width, H = height;
    const edge = (len: number, depth: number, at: (k: number, i: number) => number): Edge => {
      const step = Math.max(1, Math.floor(len / SAMPLES)), idx: number[] = [];
      for (let i = 0; i < len; i += step) idx.push(i);
      const lines = len < 8 || depth < 8 ? 0 : Math.floor(MAX_SHARE * depth);
      return { depth, at, idx, ref: null, strict: lines, loose: lines };
    };
    // top, bottom, left, right: line k from the edge, pixel i along it (RGB offsets).
    this.edges = [
      edge(W, H, (k, i) => (k * W + i) * 3),
      edge(W, H, (k, i) => ((H - 1 - k) * W + i) * 3),
      edge(H, W, (k, i) => (i * W + k) * 3),
      edge(H, W, (k, i) => (i * W + W - 1 - k) * 3),
    ];
  }

  /** One frame (RGB24, the clip's size). Only the lines still counted as border are read. */
  add(rgb: Uint8Array): void {
    this.frames++;
    for (const e of this.edges) {
      if (!e.loose) continue;
      if (!e.ref) {
        const m = [0, 0, 0];
        for (const i of e.idx) { const o = e.at(0, i); m[0] += rgb[o]; m[1] += rgb[o + 1]; m[2] += rgb[o + 2]; }
        e.ref = m.map((v) => v / e.idx.length);
      }
      const r = e.ref, need = EVEN_SHARE * e.idx.length;
      for (let k = 0; k < e.loose; k++) {
        let near = 0, within = 0;
        for (const i of e.idx) {
          const o = e.at(k, i), dev = Math.max(Math.abs(rgb[o] - r[0]), Math.abs(rgb[o + 1] - r[1]), Math.abs(rgb[o + 2] - r[2]));
          if (dev <= UNIFORM) near++;
          if (dev <= RINGING) within++;
        }
        if (k < e.strict && near < need) e.strict = k;
        if (within < need) { e.loose = k; e.strict = Math.min(e.strict, k); break; }
      }
    }
  }

  /**
   * The picture inside the bars; null when too few frames were seen to tell. An edge whose lines
   * stayed even as deep as MAX_SHARE (a clip black there throughout) has no border.
   */
  area(): Area | null {
    if (this.frames < MIN_FRAMES) return null;
    const [t, b, l, r] = this.edges.map((e) => (e.strict >= Math.floor(MAX_SHARE * e.depth) || e.strict < CORE ? 0 : Math.min(e.loose, e.strict + RING)));
    return { x0: l, y0: t, x1: this.width - r, y1: this.height - b };
  }
}
