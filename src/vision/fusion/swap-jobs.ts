// Runs the installed swap model (if any) over the jobs that carry a user embedding, before the
// classical engine: the swapped crop becomes the job's user photo. Shared by the fusion worker
// and the pool's inline mode. The model is loaded once per thread, on first use.
import type { FuseFaceJob } from './fuse.ts';
import type { Raster } from './warp.ts';
import type { SwapModel } from './swap-model.ts';

const loaded = new Map<string, Promise<SwapModel>>();

export async function swapJobs(template: Raster, jobs: FuseFaceJob[], swapModelDir: string | undefined): Promise<FuseFaceJob[]> {
  if (!swapModelDir || !jobs.some((j) => j.userEmbedding)) return jobs;
  let m = loaded.get(swapModelDir);
  if (!m) {
    // Imported only here: without a swap model no thread loads ONNX Runtime for fusion.
    m = import('./swap-model.ts').then(({ SwapModel }) => SwapModel.load(swapModelDir));
    loaded.set(swapModelDir, m);
    m.catch(() => loaded.delete(swapModelDir));
  }
  const model = await m;
  const out: FuseFaceJob[] = [];
  for (const j of jobs) out.push(j.userEmbedding ? await model.swapJob(template, j, j.userEmbedding) : j);
  return out;
}
