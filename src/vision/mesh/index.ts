// Task-registry entry for the face mesh (see ../task-registry.ts). The mesh models come from
// @vladmandic/human's package, not from the model set, so every set gets a mesh.
import type { ModelSet } from '../model-set.ts';
import type { TaskModel } from '../task-model.ts';
import { FaceMeshModel } from './face-mesh.ts';

export { FaceMeshModel } from './face-mesh.ts';
export { headPoseFromMesh } from './head-pose.ts';

export function createTaskModel(_set: ModelSet): TaskModel | null {
  return new FaceMeshModel();
}
