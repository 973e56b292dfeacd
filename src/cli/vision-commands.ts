// `facevault analyze` and `facevault compare`: the engine on local files, no server, no
// database. Output is JSON on stdout.
import fs from 'node:fs';
import { FaceAnalyzer } from '../vision/face-analyzer.ts';
import { decodeImage } from '../vision/image-decode.ts';
import { cosine } from '../vision/embedder.ts';
import { cosineToScore, cosineToSimilarityScore } from '../vision/calibration.ts';
import { loadActiveCalibration } from '../services/recognition/active-calibration.ts';
import { loadConfig } from '../config.ts';
import { modelSetDirsFromEnv } from '../vision/model-set.ts';
import type { Face } from '../vision/types.ts';
import type { TaskName } from '../vision/task-model.ts';

const r1 = (v: number) => Math.round(v * 10) / 10;
const pt = (p: { x: number; y: number }) => [r1(p.x), r1(p.y)];

function faceJson(f: Face) {
  return {
    box: { x: r1(f.box.x), y: r1(f.box.y), width: r1(f.box.width), height: r1(f.box.height) },
    score: Math.round(f.score * 1000) / 1000,
    kps: f.kps.map(pt),
    ...(f.landmarks68 ? { landmarks68: f.landmarks68.map(pt) } : {}),
    ...(f.mesh ? { mesh: f.mesh.map(pt) } : {}),
    ...(f.attributes ? { attributes: f.attributes } : {}),
    ...(f.quality ? { quality: f.quality } : {}),
  };
}

async function read(file: string) {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  return decodeImage(fs.readFileSync(file));
}

export async function analyzeCommand(file: string, flags: Record<string, string | true>): Promise<unknown> {
  const tasks: TaskName[] = [];
  if (flags.attributes) tasks.push('attributes', 'liveness');
  if (flags.mesh) tasks.push('mesh');
  if (flags.quality) tasks.push('quality');
  const an = await FaceAnalyzer.load({ tasks, extraModelSetDirs: modelSetDirsFromEnv(), set: typeof flags['model-version'] === 'string' ? flags['model-version'] : undefined });
  const img = await read(file);
  const r = await an.analyze(img, {
    landmarks: true, attributes: !!flags.attributes, liveness: !!flags.attributes, mesh: !!flags.mesh, quality: !!flags.quality,
    minFaceSize: flags['min-face-size'] ? Number(flags['min-face-size']) : undefined,
  });
  return { file, width: img.width, height: img.height, format: img.format, modelVersion: an.set.version, faces: r.faces.map(faceJson) };
}

export async function compareCommand(a: string, b: string, flags: Record<string, string | true>): Promise<unknown> {
  const an = await FaceAnalyzer.load({ tasks: [], extraModelSetDirs: modelSetDirsFromEnv(), set: typeof flags['model-version'] === 'string' ? flags['model-version'] : undefined });
  const best = async (file: string) => {
    const r = await an.analyze(await read(file), { embedding: true });
    if (!r.faces.length) throw new Error(`${file}: no face found`);
    return r.faces[0]; // highest detector score, as CompareFace's default strategy
  };
  const [fa, fb] = [await best(a), await best(b)];
  const cos = cosine(fa.embedding!, fb.embedding!);
  // The same calibration the servers use (`facevault calibrate`).
  const cal = loadActiveCalibration(loadConfig(process.env, 1).dataDir, an.set.version).calibration;
  return {
    a: { file: a, face: faceJson(fa) }, b: { file: b, face: faceJson(fb) },
    cosine: Math.round(cos * 10000) / 10000,
    score: Math.round(cosineToScore(cos, cal) * 100) / 100, // CompareFace scale: 40/50/60 = FAR 1e-3/1e-4/1e-5
    similarityScore: Math.round(cosineToSimilarityScore(cos, cal) * 100) / 100, // DetectFaceSimilarity scale: 70 = FAR 1e-4
    modelVersion: an.set.version,
  };
}
