// Fusion pixel work off the event loop: one fusion per message, results transferred back.
import { parentPort } from 'node:worker_threads';
import { fuseIntoTemplate, type FuseFaceJob } from './fuse.ts';
import type { Raster } from './warp.ts';

export interface FusionTask { id: number; template: Raster; jobs: FuseFaceJob[] }

parentPort!.on('message', (t: FusionTask) => {
  try {
    const patch = fuseIntoTemplate(t.template, t.jobs);
    parentPort!.postMessage({ id: t.id, patch }, [patch.data.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: t.id, error: (e as Error).stack ?? String(e) });
  }
});
