// Fusion pixel work off the event loop: one fusion per message, results transferred back.
import { parentPort, workerData } from 'node:worker_threads';
import { fuseIntoTemplate, type FuseFaceJob } from './fuse.ts';
import { swapJobs } from './swap-jobs.ts';
import type { Raster } from './warp.ts';

export interface FusionTask { id: number; template: Raster; jobs: FuseFaceJob[] }

const swapModelDir = (workerData as { swapModelDir?: string } | undefined)?.swapModelDir;

parentPort!.on('message', async (t: FusionTask) => {
  try {
    const patch = fuseIntoTemplate(t.template, await swapJobs(t.template, t.jobs, swapModelDir));
    parentPort!.postMessage({ id: t.id, patch }, [patch.data.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: t.id, error: (e as Error).stack ?? String(e) });
  }
});
