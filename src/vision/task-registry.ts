// Optional task models, by task name. The core pipeline (detect -> landmark68 -> embedding) is
// always there; these modules add mesh, quality, attributes and liveness when they exist in the
// source tree AND the model set provides their files. Contract for a module listed here:
//
//   export function createTaskModel(set: ModelSet): TaskModel | null      // one task
//   (or)  export function createTaskModels(set: ModelSet): TaskModel[]    // several tasks
//
// Return null / [] when the set lacks the needed files. The analyzer calls prepare() once and
// run(img, face, opts) for each face when the caller asked for that task (AnalyzeOptions flag of
// the same name: mesh, quality, attributes, liveness).
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import type { ModelSet } from './model-set.ts';
import type { TaskModel, TaskName } from './task-model.ts';

export const OPTIONAL_TASK_MODULES: { task: TaskName; module: string }[] = [
  { task: 'mesh', module: './mesh/index.ts' },
  { task: 'quality', module: './quality.ts' },
  { task: 'attributes', module: './attributes/index.ts' },
  { task: 'liveness', module: './attributes/liveness.ts' },
];

/** Runs in the order listed (mesh first: quality and attributes may use it). */
export const TASK_ORDER: TaskName[] = ['landmark68', 'embedding', 'mesh', 'quality', 'attributes', 'liveness'];

export async function loadOptionalTasks(set: ModelSet, enabled?: TaskName[]): Promise<TaskModel[]> {
  const models: TaskModel[] = [];
  const seen = new Set<string>();
  for (const { task, module } of OPTIONAL_TASK_MODULES) {
    if (enabled && !enabled.includes(task)) continue;
    const url = new URL(module, import.meta.url);
    if (seen.has(url.href)) continue;
    // Absent module = capability not built yet; anything else wrong with it must surface.
    if (!fs.existsSync(fileURLToPath(url))) continue;
    seen.add(url.href);
    const mod = (await import(url.href)) as {
      createTaskModel?: (s: ModelSet) => TaskModel | null;
      createTaskModels?: (s: ModelSet) => TaskModel[];
    };
    const made = mod.createTaskModels ? mod.createTaskModels(set) : mod.createTaskModel ? [mod.createTaskModel(set)] : [];
    for (const m of made) if (m && (!enabled || enabled.includes(m.task))) models.push(m);
  }
  return models;
}
