// FaceAnalysis in InsightFace's shape: detect, then each task model enriches every Face.
// Pure compute on one thread; inference-pool.ts runs one of these per worker.
import type { AnalysisResult, AnalyzeOptions, Face, Point, RgbImage } from './types.ts';
import { DEFAULT_MODEL_VERSION, loadModelSets, verifyModelSet, ModelMissingError, type ModelSet } from './model-set.ts';
import type { TaskModel, TaskName } from './task-model.ts';
import { FaceDetector } from './detector.ts';
import { Landmark68 } from './landmark68.ts';
import { Embedder } from './embedder.ts';
import { loadOptionalTasks, TASK_ORDER } from './task-registry.ts';
import { rotateImage, unrotatePoint } from './image-ops.ts';
import { pickFace } from './face-pick.ts';
import { AntiSpoofModel } from './attributes/anti-spoof.ts';

export interface FaceAnalyzerOptions {
  /** A loaded set, or a version name looked up among the shipped and extra sets. */
  set?: ModelSet | string;
  extraModelSetDirs?: string[];
  /** Optional tasks to load (default: every one whose module and files exist). */
  tasks?: TaskName[];
  /** Resolve once the core models are in; optional tasks finish loading in the background
   *  (`optionalReady`), and a request needing one waits for it. Default false. */
  background?: boolean;
  /** Operator anti-spoofing model directory (FACEVAULT_LIVENESS_MODEL); runs with `liveness`. */
  livenessModelDir?: string;
}

const SURE_UPRIGHT_LOGIT = 9;

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
    private readonly antiSpoof: AntiSpoofModel | null = null,
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
    // Everything starts loading at once: ORT sessions are created synchronously, but module
    // imports, file reads and the tfjs WebAssembly compile are asynchronous and overlap them.
    const tasks = new Map<TaskName, TaskModel>();
    const pending = new Map<TaskName, Promise<void>>();
    const optionalReady = (async () => {
      const optional = await loadOptionalTasks(set, opts.tasks);
      for (const m of optional) {
        tasks.set(m.task, m);
        pending.set(m.task, m.prepare());
      }
      await Promise.all(pending.values());
    })();
    optionalReady.catch(() => {}); // surfaced by load() (foreground) or the request that needs it
    const core = [new Landmark68(set), new Embedder(set)];
    const [detector] = await Promise.all([FaceDetector.load(set.models.detect, set.path('detect')), ...core.map((m) => m.prepare())]);
    for (const m of core) tasks.set(m.task, m);
    if (!opts.background) await optionalReady;
    // A broken operator model fails the load (the operator asked for it), not each request.
    const antiSpoof = opts.livenessModelDir ? AntiSpoofModel.fromDir(opts.livenessModelDir) : null;
    await antiSpoof?.prepare();
    return new FaceAnalyzer(set, detector, tasks, optionalReady, pending, antiSpoof);
  }

  /** Task names this analyzer can run (core ones always). */
  get available(): TaskName[] {
    return TASK_ORDER.filter((t) => this.tasks.has(t));
  }

  async analyze(img: RgbImage, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
    const upright = await this.analyzeUpright(img, opts);
    if (!opts.tryRotations) return upright;
    // fr_detect also fires on turned and upside-down faces (score ~0.99 where an upright face gets
    // 0.999999), so "found something" does not settle the orientation: compare the best face's
    // score logit across the four turns. A sure upright face (logit ≥ 9) skips the search.
    const best = (r: AnalysisResult) => Math.max(-Infinity, ...r.faces.map((f) => Math.log(f.score / Math.max(1e-12, 1 - f.score))));
    const uprightBest = best(upright);
    if (uprightBest >= SURE_UPRIGHT_LOGIT) return upright;
    const detectOnly: AnalyzeOptions = { minFaceSize: opts.minFaceSize, scoreThreshold: opts.scoreThreshold, singleFace: opts.singleFace };
    let choice: { deg: 90 | 180 | 270; logit: number } | null = null;
    for (const deg of [90, 270, 180] as const) {
      const logit = best(await this.analyzeUpright(rotateImage(img, deg), detectOnly));
      if (logit > uprightBest && (!choice || logit > choice.logit)) choice = { deg, logit };
    }
    if (!choice) return upright;
    const deg = choice.deg;
    // A pick rectangle is in the input's frame, not the turned one's: enrich every face instead.
    const r = await this.analyzeUpright(rotateImage(img, deg), opts.enrichPick?.rect ? { ...opts, enrichPick: undefined } : opts);
    const back = (p: Point) => unrotatePoint(p.x, p.y, deg, img.width, img.height);
    for (const f of r.faces) {
      const b = f.box;
      const corners = [back({ x: b.x, y: b.y }), back({ x: b.x + b.width, y: b.y + b.height })];
      const x = Math.min(corners[0].x, corners[1].x), y = Math.min(corners[0].y, corners[1].y);
      f.box = { x, y, width: Math.abs(corners[0].x - corners[1].x), height: Math.abs(corners[0].y - corners[1].y) };
      f.kps = f.kps.map(back);
      if (f.landmarks68) f.landmarks68 = f.landmarks68.map(back);
      if (f.mesh) f.mesh = f.mesh.map(back);
      f.rotation = deg;
    }
    return { width: img.width, height: img.height, faces: r.faces };
  }

  private async analyzeUpright(img: RgbImage, opts: AnalyzeOptions): Promise<AnalysisResult> {
    const dets = await this.detector.detect(img, { minFaceSize: opts.minFaceSize || undefined, scoreThreshold: opts.scoreThreshold, single: opts.singleFace && !opts.enrichPick?.rect });
    let faces: Face[] = dets
      .filter((d) => !opts.minFaceSize || d.box.width >= opts.minFaceSize)
      .sort((a, b) => b.score - a.score)
      .map((d) => ({ box: d.box, score: d.score, kps: [] }));
    if (opts.maxFaces !== undefined) faces = faces.slice(0, Math.max(0, opts.maxFaces));
    const wantsOptional = (['mesh', 'quality', 'attributes', 'liveness'] as const).some((o) => opts[o]);
    if (wantsOptional) await this.optionalReady;
    const chosen = opts.enrichPick ? pickFace(faces, opts.enrichPick) : undefined;
    const picked = chosen ? [chosen] : [];
    for (const task of TASK_ORDER) {
      const model = this.tasks.get(task);
      if (!model) continue;
      // Landmarks are cheap (<1 ms) and give the 5 points everything else needs: always run.
      const opt = OPTION_OF[task];
      if (task !== 'landmark68' && !(opt && opts[opt])) continue;
      await this.pending.get(task);
      const targets = task === 'landmark68' || task === 'embedding' ? faces
        : opts.enrichPick ? picked
        : opts.enrichLargest === undefined ? faces
        : [...faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height).slice(0, opts.enrichLargest);
      for (const f of targets) await model.run(img, f, opts);
    }
    if (opts.liveness && this.antiSpoof) {
      const targets = opts.enrichPick ? picked : opts.enrichLargest === undefined ? faces
        : [...faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height).slice(0, opts.enrichLargest);
      for (const f of targets) await this.antiSpoof.run(img, f);
    }
    if (!opts.landmarks) for (const f of faces) delete f.landmarks68;
    return { width: img.width, height: img.height, faces };
  }
}
