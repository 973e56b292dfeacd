// `facevault fuse-video`: the video pipeline offline, on local files, with a progress bar and an
// ETA on stderr: track the template's faces, then fuse the user's face(s) frame by frame.
import fs from 'node:fs';
import { VisionEngine } from '../services/media/vision-engine.ts';
import { VIDEO_FUSE_DEGREES, frameDetector, userFace } from '../services/video/video-vision.ts';
import { checkTemplate } from '../services/video/video-limits.ts';
import { FusionPool } from '../vision/fusion/pool.ts';
import { fuseVideo, probeVideo, trackVideo, type Track, type VideoFace } from '../vision/video/index.ts';

export interface FuseVideoArgs {
  template: string;
  face: string;
  /** TemplateFaceID → photo, for more faces (or another than the largest). */
  faceFor: Map<string, string>;
  output: string;
  noLabel: boolean;
  threads: number;
  /** A learned swap model's directory (FACEVAULT_SWAP_MODEL), used as the server uses it. */
  swapModelDir?: string;
}

/** A one-line progress bar with an ETA (only when stderr is a terminal it redraws in place). */
function progressBar(label: string) {
  const t0 = Date.now();
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    const f = total ? done / total : 0;
    const el = (now - t0) / 1000;
    const eta = f > 0 ? el / f - el : 0;
    const bar = '#'.repeat(Math.round(f * 30)).padEnd(30, '.');
    const line = `${label.padEnd(8)} [${bar}] ${done}/${total} ${(done / Math.max(el, 0.001)).toFixed(1)} fps, ETA ${eta.toFixed(0)} s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else if (done >= total || Math.floor(f * 10) !== Math.floor(((done - 1) / total) * 10)) process.stderr.write(`${line}\n`);
  };
}

const largest = (tracks: Track[]) => tracks.reduce((a, b) => (score(b) > score(a) ? b : a));
const score = (t: Track) => t.points.filter((p) => !p.bridged).reduce((s, p) => s + p.box.width * p.box.height, 0);

export async function fuseVideoCommand(a: FuseVideoArgs): Promise<Record<string, unknown>> {
  const info = probeVideo(a.template);
  checkTemplate(info, '--template', 'InvalidParameterValue');
  const vision = new VisionEngine({ threads: a.threads }, { allowList: [] });
  const pool = new FusionPool(a.threads, { swapModelDir: a.swapModelDir });
  try {
    const finder = { analyze: vision.analyze.bind(vision) };
    const tracked = await trackVideo(a.template, info, frameDetector(finder), { onProgress: progressBar('tracking') });
    const tracks = tracked.tracks.filter((t) => t.points.some((p) => p.mesh));
    if (!tracks.length) throw new Error('no face was found in the template video');
    const faces: VideoFace[] = [];
    const wanted = new Map(a.faceFor);
    if (![...wanted.keys()].length || a.face) {
      // --face goes to the largest face not named by --face-for.
      const free = tracks.filter((t) => !wanted.has(String(t.id)));
      if (free.length) wanted.set(String(largest(free).id), a.face);
    }
    for (const [id, file] of wanted) {
      const t = tracks.find((x) => String(x.id) === id);
      if (!t) throw new Error(`--face-for ${id}: the template has faces ${tracks.map((x) => x.id).join(', ')}`);
      const u = await userFace(finder, fs.readFileSync(file), file);
      faces.push({ trackId: t.id, user: u.user, userMesh: u.userMesh, ...(u.embedding ? { userEmbedding: u.embedding } : {}), ...VIDEO_FUSE_DEGREES });
    }
    const r = await fuseVideo({
      source: a.template, output: a.output, info, tracks, faces, pool, picture: tracked.picture,
      mark: { kind: a.noLabel ? 'none' : 'label' },
      tags: { comment: 'AI-GENERATED: face fused by facevault', aigc: JSON.stringify({ Label: '1', ContentProducer: 'facevault' }) },
      onProgress: progressBar('fusing'),
    });
    const out = probeVideo(a.output);
    return {
      output: a.output, frames: r.frames, fusedFrames: r.fusedFrames, passedThrough: r.passedFrames,
      trackingMs: Math.round(tracked.ms), fusionMs: Math.round(r.ms),
      faces: faces.map((f) => f.trackId), templateFaces: tracks.map((t) => ({ id: t.id, frames: t.points.length, box: t.bestBox })),
      result: { width: out.width, height: out.height, fps: out.fps, durationSec: out.durationSec, audio: out.audio },
    };
  } finally {
    await pool.close();
    await vision.close();
  }
}
