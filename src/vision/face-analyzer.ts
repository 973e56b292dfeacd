// FaceAnalysis in InsightFace's shape: detect, then each task model enriches every Face.
// Pure compute on one thread; inference-pool.ts runs one of these per worker.
import type { AnalysisResult, AnalyzeOptions, Face, RgbImage } from './types.ts';
import { DEFAULT_MODEL_VERSION, loadModelSets, verifyModelSet, ModelMissingError, type ModelSet } from './model-set.ts';
import type { TaskModel, TaskName } from './task-model.ts';
import { FaceDetector } from './detector.ts';
import { Landmark68 } from './landmark68.ts';
import { Embedder } from './embedder.ts';
import { loadOptionalTasks, TASK_ORDER } from './task-registry.ts';

export interface FaceAnalyzerOptions {
  /** A loaded set, or a version name looked up among the shipped and extra sets. */
  set?: ModelSet | string;
  extraModelSetDirs?: string[];
  /** Optional tasks to load (default: every one whose module and files exist). */
  tasks?: TaskName[];
  /** Resolve once the core models are in; optional tasks finish loading in the background
   *  (`optionalReady`), and a request needing one waits for it. Default false. */
  background?: boolean;
}

const OPTION_OF: Partial<Record<TaskName, keyof AnalyzeOptions>> = {
  embedding: 'embedding', mesh: 'mesh', quality: 'quality', attributes: 'attributes', liveness: 'liveness',
};

export class FaceAnalyzer {
  private constructor(
    readonly set: ModelSet,
    private readonly detector: FaceDetector,
    private readonly tasks: Map<TaskName, TaskModel>,
    /** Resolves when every optional task model is loaded. */
    readonly optionalReady: Promise<void>,
    private readonly pending: Map<TaskName, Promise<void>>,
  ) {}

  static async load(opts: FaceAnalyzerOptions = {}): Promise<FaceAnalyzer> {
    let set: ModelSet;
    if (typeof opts.set === 'object') set = opts.set;
    else {
      const version = opts.set ?? DEFAULT_MODEL_VERSION;
      const found = loadModelSets(opts.extraModelSetDirs ?? []).get(version);
      if (!found) throw new ModelMissingError(`no model set with version "${version}"`);
      set = found;
    }
    verifyModelSet(set, { roles: ['detect', 'landmark68', 'embedding'] });
    const detector = await FaceDetector.load(set.models.detect, set.path('detect'));
    const tasks = new Map<TaskName, TaskModel>();
    for (const m of [new Landmark68(set), new Embedder(set)]) {
      await m.prepare();
      tasks.set(m.task, m);
    }
    const pending = new Map<TaskName, Promise<void>>();
    const optionalReady = (async () => {
      const optional = await loadOptionalTasks(set, opts.tasks);
      for (const m of optional) {
        tasks.set(m.task, m);
        pending.set(m.task, m.prepare());
      }
      await Promise.all(pending.values());
    })();
    if (!opts.background) await optionalReady;
    else optionalReady.catch(() => {}); // surfaced by the request that needs the task
    return new FaceAnalyzer(set, detector, tasks, optionalReady, pending);
  }

  /** Task names this analyzer can run (core ones always). */
  get available(): TaskName[] {
    return TASK_ORDER.filter((t) => this.tasks.has(t));
  }

  async analyze(img: RgbImage, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
    const dets = await this.detector.detect(img, { minFaceSize: opts.minFaceSize || undefined, scoreThreshold: opts.scoreThreshold });
    let faces: Face[] = dets
      .filter((d) => !opts.minFaceSize || d.box.width >= opts.minFaceSize)
      .sort((a, b) => b.score - a.score)
      .map((d) => ({ box: d.box, score: d.score, kps: [] }));
    if (opts.maxFaces !== undefined) faces = faces.slice(0, Math.max(0, opts.maxFaces));
    const wantsOptional = (['mesh', 'quality', 'attributes', 'liveness'] as const).some((o) => opts[o]);
    if (wantsOptional) await this.optionalReady;
    for (const task of TASK_ORDER) {
      const model = this.tasks.get(task);
      if (!model) continue;
      // Landmarks are cheap (<1 ms) and give the 5 points everything else needs: always run.
      const opt = OPTION_OF[task];
      if (task !== 'landmark68' && !(opt && opts[opt])) continue;
      await this.pending.get(task);
      for (const f of faces) await model.run(img, f, opts);
    }
    if (!opts.landmarks) for (const f of faces) delete f.landmarks68;
    return { width: img.width, height: img.height, faces };
  }
}
