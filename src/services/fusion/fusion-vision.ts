// What fusion needs from the vision engine: faces with 5 points and the dense mesh.
import type { AnalysisResult, AnalyzeOptions, RgbImage } from '../../vision/types.ts';

export interface FaceFinder {
  /** Every face (box, kps, score) with its 468-point mesh when `mesh` is set. */
  analyze(img: RgbImage, opts: AnalyzeOptions): Promise<AnalysisResult>;
}
