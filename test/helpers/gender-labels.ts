// The gender labels of bench/attributes-labels.json (set by looking at the photos) as a list of
// photos, and the figures the attributes bench and test report from a model's P(male).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TESTDATA } from './testdata.ts';

type Sex = 'M' | 'F';
const LABELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/attributes-labels.json');

export interface LabelledPhoto {
  population: 'identities' | 'yale' | 'portraits';
  /** Same person = same id. */
  person: string;
  /** Relative to the test data root. */
  file: string;
  /** null: the person's gender could not be told by looking (kept for age consistency only). */
  sex: Sex | null;
}

export function labelledPhotos(root = TESTDATA): LabelledPhoto[] {
  const l = JSON.parse(fs.readFileSync(LABELS, 'utf8')) as Record<'identities' | 'yale' | 'portraits', Record<string, Sex | null>>;
  const out: LabelledPhoto[] = [];
  for (const pop of ['identities', 'yale'] as const) {
    for (const [who, sex] of Object.entries(l[pop])) {
      const dir = path.join(root, 'faces', pop, who);
      for (const f of fs.readdirSync(dir).sort()) out.push({ population: pop, person: `${pop}/${who}`, file: path.join('faces', pop, who, f), sex });
    }
  }
  for (const [f, sex] of Object.entries(l.portraits)) out.push({ population: 'portraits', person: `portraits/${f}`, file: path.join('faces/crowds', f), sex });
  return out;
}

export interface GenderFigures {
  n: number; correct: number; men: number; menCorrect: number; women: number; womenCorrect: number;
  accuracy: number; ci95: [number, number]; auc: number;
}

/** Wilson score interval for k successes in n trials (95%). */
export function wilson(k: number, n: number, z = 1.959964): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

/** Accuracy at P(male) ≥ 0.5 and ROC AUC (Mann–Whitney, ties ½) over labelled scores. */
export function genderFigures(scored: { sex: Sex; male: number }[]): GenderFigures {
  const m = scored.filter((s) => s.sex === 'M').map((s) => s.male), f = scored.filter((s) => s.sex === 'F').map((s) => s.male);
  const menCorrect = m.filter((x) => x >= 0.5).length, womenCorrect = f.filter((x) => x < 0.5).length;
  let auc = 0;
  for (const a of m) for (const b of f) auc += a > b ? 1 : a === b ? 0.5 : 0;
  auc = m.length && f.length ? auc / (m.length * f.length) : NaN;
  const n = m.length + f.length, correct = menCorrect + womenCorrect;
  return { n, correct, men: m.length, menCorrect, women: f.length, womenCorrect, accuracy: n ? correct / n : NaN, ci95: wilson(correct, n), auc };
}
