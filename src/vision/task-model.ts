// A task model enriches a detected Face in place (InsightFace's model.get(img, face)).
// The analyzer composes them; adding a capability means adding one of these, nothing else.
import type { AnalyzeOptions, Face, RgbImage } from './types.ts';
import type { ModelSet } from './model-set.ts';

export type TaskName = 'landmark68' | 'embedding' | 'mesh' | 'attributes' | 'quality' | 'liveness';

export interface TaskModel {
  readonly task: TaskName;
  /** Load weights once (from the local model cache; never from the network). */
  prepare(): Promise<void>;
  /** `opts` is the caller's request, for models that compute only what was asked. */
  run(img: RgbImage, face: Face, opts?: AnalyzeOptions): Promise<void>;
}
