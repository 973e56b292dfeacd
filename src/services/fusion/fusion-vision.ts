// What fusion needs from the vision engine: faces with 5 points and the dense mesh. Image bytes
// are decoded in the worker too (with `limits` and `returnImage`), so no user image is decoded on
// the event loop and decoding shares the worker's deadline.
import type { PoolAnalysis, PoolAnalyzeOptions } from '../../vision/inference-pool.ts';
import type { RgbImage } from '../../vision/types.ts';

export interface FaceFinder {
  /** Every face (box, kps, score) with its 468-point mesh when `mesh` is set. */
  analyze(input: Uint8Array | RgbImage, opts: PoolAnalyzeOptions): Promise<PoolAnalysis>;
}
