// Builds the video fusion capability: video materials (tracking pass), jobs of both dialects,
// signed result links. The fusion worker pool is shared with image fusion (one pool per process).
import path from 'node:path';
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../../store/db/db.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import { VideoRepo } from '../../store/video/video-repo.ts';
import type { FusionRunner } from '../../vision/video/index.ts';
import type { FaceFinder } from '../fusion/fusion-vision.ts';
import type { ImageReader } from '../fusion/fusion.ts';
import { VideoMaterials, type FetchToFile } from './video-materials.ts';
import { VideoJobs } from './video-jobs.ts';
import { VideoResults } from './video-results.ts';

export interface VideoModule {
  repo: VideoRepo;
  materials: VideoMaterials;
  jobs: VideoJobs;
  results: VideoResults;
}

export interface VideoDeps {
  db: Db;
  blobs: BlobStore;
  clock: Clock;
  finder: FaceFinder;
  dataDir: string;
  /** Key for result-link signatures and one for callback signatures (both derived from the master key). */
  resultKey: Buffer;
  callbackKey: Buffer;
  publicUrl: string | null;
  leaseMs?: number;
  maxAttempts?: number;
  /** Downloads a Url (SSRF-guarded) up to maxBytes into `file`, resolving with its size (videos never go to memory). */
  fetchToFile: FetchToFile;
  sendUrl(url: string, o: { method: 'PUT' | 'POST'; body: Buffer | { file: string }; headers: Record<string, string> }, field: string): Promise<number>;
  report(e: Error): void;
}

/** The video materials come first: image fusion's CreateMaterial hands mp4 uploads to them. */
export function createVideoMaterials(d: VideoDeps): { repo: VideoRepo; materials: VideoMaterials } {
  const repo = new VideoRepo(d.db);
  const workDir = path.join(d.dataDir, 'tmp', 'video');
  return { repo, materials: new VideoMaterials(new FusionRepo(d.db), repo, d.blobs, d.clock, d.finder, workDir, d.fetchToFile, d.report) };
}

export function createVideoModule(d: VideoDeps, m: { repo: VideoRepo; materials: VideoMaterials }, pool: FusionRunner, readImage: ImageReader): VideoModule {
  const results = new VideoResults(m.repo, d.blobs, d.clock, d.resultKey, d.publicUrl);
  const jobs = new VideoJobs(m.repo, m.materials, d.blobs, d.clock, d.finder, pool, results, readImage, {
    leaseMs: d.leaseMs ?? 60_000, maxAttempts: d.maxAttempts ?? 3, workDir: path.join(d.dataDir, 'tmp', 'video'),
    fetchToFile: d.fetchToFile, sendUrl: d.sendUrl, callbackKey: d.callbackKey, report: d.report,
  });
  return { repo: m.repo, materials: m.materials, jobs, results };
}
