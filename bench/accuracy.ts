// Verification and detection accuracy of the default model set on the shared test photos.
//   npm run bench -- accuracy
// Verification: every pair of photos in faces/identities (same folder = same person), cosine of
// the main face's embedding: ROC AUC, TAR at FAR 1% / 0.1%, best accuracy; and the calibration
// empirical FAR/TAR at Score 30-70 under the shipped scale (its fit: bench/calibration.ts).
// Detection: faces found vs faces present in faces/groups (counts in test/helpers/face-counts.ts).
import fs from 'node:fs';
import path from 'node:path';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { cosine } from '../src/vision/embedder.ts';
import { CALIBRATION_3_0, cosineToScore } from '../src/vision/calibration.ts';
import { GROUP_FACE_COUNTS } from '../test/helpers/face-counts.ts';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';
import { table, writeResult } from './lib.ts';

export interface PairScores { genuine: number[]; impostor: number[] }

export async function identityPairs(analyzer: FaceAnalyzer): Promise<PairScores & { photos: number; people: number; noFace: string[] }> {
  const root = path.join(TESTDATA, 'faces/identities');
  const items: { id: string; e: Float32Array }[] = [];
  const noFace: string[] = [];
  const people = fs.readdirSync(root).sort();
  for (const id of people) {
    for (const f of fs.readdirSync(path.join(root, id)).sort()) {
      const img = await decodeImage(fs.readFileSync(path.join(root, id, f)));
      const r = await analyzer.analyze(img, { embedding: true, maxFaces: 1, singleFace: true }); // as CompareFace takes it
      if (!r.faces.length) noFace.push(`${id}/${f}`);
      else items.push({ id, e: r.faces[0].embedding! });
    }
  }
  const genuine: number[] = [], impostor: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) (items[i].id === items[j].id ? genuine : impostor).push(cosine(items[i].e, items[j].e));
  }
  return { genuine, impostor, photos: items.length, people: people.length, noFace };
}

export function rocAuc({ genuine, impostor }: PairScores): number {
  let wins = 0;
  for (const g of genuine) for (const i of impostor) wins += g > i ? 1 : g === i ? 0.5 : 0;
  return wins / (genuine.length * impostor.length);
}

/** TAR at the smallest threshold whose empirical FAR ≤ far. */
export function tarAtFar({ genuine, impostor }: PairScores, far: number): { tar: number; threshold: number } {
  const imp = [...impostor].sort((a, b) => b - a);
  const k = Math.floor(far * imp.length); // impostors allowed above the threshold
  const threshold = k < imp.length ? imp[k] : -1; // accept strictly above
  return { tar: genuine.filter((g) => g > threshold).length / genuine.length, threshold };
}

export function bestAccuracy({ genuine, impostor }: PairScores): { accuracy: number; threshold: number } {
  const all = [...genuine, ...impostor].sort((a, b) => a - b);
  let best = { accuracy: 0, threshold: 0 };
  for (const t of all) {
    const correct = genuine.filter((g) => g >= t).length + impostor.filter((i) => i < t).length;
    const acc = correct / (genuine.length + impostor.length);
    if (acc > best.accuracy) best = { accuracy: acc, threshold: t };
  }
  return best;
}

async function main() {
  if (!hasTestdata) {
    console.log(`accuracy: test data not found at ${TESTDATA}; nothing to measure`);
    return;
  }
  const analyzer = await FaceAnalyzer.load({ tasks: [] });
  const pairs = await identityPairs(analyzer);
  const auc = rocAuc(pairs);
  const t1 = tarAtFar(pairs, 0.01);
  const t01 = tarAtFar(pairs, 0.001);
  const best = bestAccuracy(pairs);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const verification = {
    photos: pairs.photos, people: pairs.people, noFace: pairs.noFace,
    genuinePairs: pairs.genuine.length, impostorPairs: pairs.impostor.length,
    genuineMean: mean(pairs.genuine), genuineMin: Math.min(...pairs.genuine),
    impostorMean: mean(pairs.impostor), impostorMax: Math.max(...pairs.impostor),
    rocAuc: auc, tarAtFar1: t1.tar, thresholdAtFar1: t1.threshold, tarAtFar01: t01.tar, thresholdAtFar01: t01.threshold,
    bestAccuracy: best.accuracy, bestThreshold: best.threshold,
  };
  console.log('\nVerification (cosine, all pairs of faces/identities)');
  console.log(table([{ photos: pairs.photos, genuine: pairs.genuine.length, impostor: pairs.impostor.length, 'ROC AUC': auc, 'TAR@FAR1%': t1.tar, 'TAR@FAR0.1%': t01.tar, 'best acc': best.accuracy, 'best thr': best.threshold }]));

  const scoreRows = [30, 40, 50, 60, 70].map((s) => ({
    score: s,
    'cosine (shipped)': CALIBRATION_3_0.anchors.find((a: [number, number]) => a[1] === s)![0],
    'empirical FAR': pairs.impostor.filter((c) => cosineToScore(c) >= s).length / pairs.impostor.length,
    'empirical TAR': pairs.genuine.filter((c) => cosineToScore(c) >= s).length / pairs.genuine.length,
  }));
  console.log(`\nScores under the shipped calibration (${CALIBRATION_3_0.source}); refit: npm run bench -- calibration`);
  console.log(table(scoreRows));

  const detection: { photo: string; present: number; found: number; ms: number }[] = [];
  for (const [photo, present] of Object.entries(GROUP_FACE_COUNTS)) {
    const img = await decodeImage(fs.readFileSync(path.join(TESTDATA, 'faces/groups', photo)));
    const t = performance.now();
    const r = await analyzer.analyze(img, { minFaceSize: 34 });
    detection.push({ photo, present, found: r.faces.length, ms: Math.round(performance.now() - t) });
  }
  console.log('\nDetection (faces/groups, MinFaceSize 34)');
  console.log(table(detection));
  const file = writeResult('accuracy', {
    command: 'npm run bench -- accuracy', verification,
    scores: scoreRows, detection,
  });
  console.log(`\nwrote ${file}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
