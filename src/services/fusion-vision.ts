// What fusion needs from the vision engine: faces with 5 points and the dense mesh.
// Uses the app's worker pool when it offers analysis, else an in-process analyzer.
import type { AnalysisResult, AnalyzeOptions, RgbImage } from '../vision/types.ts';

export interface FaceFinder {
  /** Every face (box, kps, score) with its 468-point mesh when `mesh` is set. */
  analyze(img: RgbImage, opts: AnalyzeOptions): Promise<AnalysisResult>;
}

/** Loads the detector, landmarks and mesh in this thread on first use (no worker pool). */
export function inProcessFaceFinder(): FaceFinder {
  let ready: Promise<FaceFinder> | null = null;
  const load = async () => {
    const { FaceAnalyzer } = await import('../vision/face-analyzer.ts');
    const { FaceMeshModel } = await import('../vision/mesh/face-mesh.ts');
    const analyzer = await FaceAnalyzer.load({ tasks: [] });
    const mesh = new FaceMeshModel({ iris: false });
    await mesh.prepare();
    return {
      async analyze(img: RgbImage, opts: AnalyzeOptions) {
        const r = await analyzer.analyze(img, { ...opts, mesh: false });
        if (opts.mesh) for (const f of r.faces) await mesh.run(img, f);
        return r;
      },
    };
  };
  return {
    async analyze(img, opts) {
      ready ??= load();
      return (await ready).analyze(img, opts);
    },
  };
}
