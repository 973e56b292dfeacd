// Attribute models, face mesh and quality against the labelled test photos. Figures printed
// here are the ones in docs/MODELS.md (attributes section); thresholds sit just under them so a
// preprocessing regression fails while the models' known weaknesses are stated, not hidden.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { computeQuality } from '../src/vision/quality.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';
import { genderFigures, labelledPhotos } from './helpers/gender-labels.ts';
const ALL = { mesh: true, attributes: true, quality: true, liveness: true, landmarks: true, maxFaces: 1 };

let an: FaceAnalyzer;
const load = async (...p: string[]) => decodeImage(fs.readFileSync(td(...p)));
const mirror = (img: RgbImage): RgbImage => {
  const o = Buffer.alloc(img.data.length);
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) img.data.copy(o, (y * img.width + img.width - 1 - x) * 3, (y * img.width + x) * 3, (y * img.width + x) * 3 + 3);
  return { width: img.width, height: img.height, data: o };
};
async function face(img: RgbImage): Promise<Face> {
  const r = await an.analyze(img, ALL);
  expect(r.faces.length).toBeGreaterThan(0);
  return r.faces[0];
}

describe.skipIf(!hasTestdata)('attribute models on labelled photos', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  const identity: { who: string; file: string; face: Face; height: number }[] = [];
  const expr: { label: string; face: Face }[] = [];

  beforeAll(async () => {
    an = await FaceAnalyzer.load();
    for (const who of fs.readdirSync(td('faces/identities')).sort()) {
      for (const file of fs.readdirSync(td('faces/identities', who)).sort()) {
        const r = await an.analyze(await load('faces/identities', who, file), ALL);
        if (r.faces[0]) identity.push({ who, file, face: r.faces[0], height: r.height });
      }
    }
    for (const file of fs.readdirSync(td('faces/expressions')).sort()) {
      expr.push({ label: file.replace(/\.\w+$/, ''), face: await face(await load('faces/expressions', file)) });
    }
  }, 300_000);

  it('gender (faceres) on every gender-labelled photo: identities, Yale, portraits', async () => {
    // Identity photos were analysed above with every task; the rest need gender only.
    expect(identity.length).toBeGreaterThanOrEqual(55);
    const scored: { sex: 'M' | 'F'; male: number; file: string }[] = [];
    for (const p of labelledPhotos()) {
      if (!p.sex) continue;
      let f = identity.find((i) => `faces/identities/${i.who}/${i.file}` === p.file)?.face;
      if (!f) {
        const r = await an.analyze(await load(p.file), { attributes: true, attributeKinds: ['gender'], singleFace: true });
        f = [...r.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
        expect(f?.attributes?.age, 'attributeKinds [gender] runs no age model').toBeUndefined();
      }
      expect(f, p.file).toBeDefined();
      scored.push({ sex: p.sex, male: f!.attributes!.gender!.male, file: p.file });
    }
    // The age gates ask for age only: no gender model runs.
    const ageOnly = (await an.analyze(await load('faces/identities/obama/obama.jpg'), { attributes: true, attributeKinds: ['age'], singleFace: true })).faces[0].attributes!;
    expect(ageOnly.gender).toBeUndefined();
    expect(ageOnly.age).toBeGreaterThan(15);
    const g = genderFigures(scored);
    const wrong = scored.filter((s) => (s.male >= 0.5 ? 'M' : 'F') !== s.sex).map((s) => s.file);
    console.log(`gender: ${g.correct}/${g.n} correct (men ${g.menCorrect}/${g.men}, women ${g.womenCorrect}/${g.women}), ` +
      `Wilson 95% ${(g.ci95[0] * 100).toFixed(1)}-${(g.ci95[1] * 100).toFixed(1)}%, ROC AUC ${g.auc.toFixed(3)}; wrong: ${wrong.join(', ') || 'none'}`);
    expect(g.n).toBe(216);
    // Measured 215/216, women 33/34, AUC 0.998 (docs/MODELS.md). The floors sit well below that
    // and above what fr_gender scored on the same photos (183/216, women 16/34, AUC 0.81).
    expect(g.accuracy).toBeGreaterThan(0.95);
    expect(g.womenCorrect).toBeGreaterThanOrEqual(30);
    expect(g.menCorrect / g.men).toBeGreaterThan(0.95);
    expect(g.auc).toBeGreaterThan(0.97);
  }, 600_000);

  it('expression: happy and neutral are recognised; overall accuracy as measured', () => {
    const got = expr.map((e) => `${e.label}->${e.face.attributes!.expression!.label}`);
    const ok = expr.filter((e) => e.face.attributes!.expression!.label === e.label).length;
    console.log(`expression: ${ok}/${expr.length} correct: ${got.join(', ')}`);
    const byLabel = Object.fromEntries(expr.map((e) => [e.label, e.face.attributes!.expression!]));
    expect(byLabel.happy.label).toBe('happy');
    expect(byLabel.neutral.label).toBe('neutral');
    expect(byLabel.happy.probabilities.happy).toBeGreaterThan(byLabel.neutral.probabilities.happy);
    expect(ok).toBeGreaterThanOrEqual(3);
  });

  it('eye state: the eyes-shut photo reads closed, open-eyed photos read open', () => {
    const minOpen = (label: string) => {
      const e = expr.find((x) => x.label === label)!.face.attributes!.eyesOpen!;
      return Math.min(e.left, e.right);
    };
    console.log('eyes min P(open):', expr.map((e) => `${e.label} ${minOpen(e.label).toFixed(2)}`).join(', '));
    expect(minOpen('disgusted')).toBeLessThan(0.5);
    for (const l of ['happy', 'neutral', 'surprised', 'fearful']) expect(minOpen(l)).toBeGreaterThan(0.5);
    const open = identity.filter((i) => Math.min(i.face.attributes!.eyesOpen!.left, i.face.attributes!.eyesOpen!.right) >= 0.5).length;
    console.log(`eyes: ${open}/${identity.length} identity photos read both-open`);
  });

  it('age (fr_age): adult estimates (no age labels: plausibility only)', () => {
    const ages = identity.map((i) => i.face.attributes!.age!);
    const mean = ages.reduce((s, a) => s + a, 0) / ages.length;
    console.log(`age: min ${Math.min(...ages).toFixed(0)} mean ${mean.toFixed(1)} max ${Math.max(...ages).toFixed(0)}`);
    for (const a of ages) { expect(a).toBeGreaterThan(15); expect(a).toBeLessThan(85); }
  });

  it('liveness: real photos mostly score live (spoof rejection unmeasured)', () => {
    const live = identity.map((i) => i.face.attributes!.liveness!);
    for (const t of [0.4, 0.5, 0.7, 0.9]) console.log(`liveness: ${live.filter((p) => p >= t).length}/${live.length} real photos at P(live) >= ${t}`);
    expect(live.filter((p) => p >= 0.4).length / live.length).toBeGreaterThan(0.8);
  });

  it('head pose from the mesh is mirror-consistent and near frontal on frontal photos', async () => {
    for (const p of [['faces/expressions', 'happy.jpg'], ['faces/identities/obama', 'obama1.jpg'], ['faces/identities/kit_harington', 'john2.jpeg']]) {
      const img = await load(...p);
      const a = (await face(img)).attributes!.pose!;
      const b = (await face(mirror(img))).attributes!.pose!;
      expect(Math.abs(a.yaw + b.yaw)).toBeLessThan(8);
      expect(Math.abs(a.roll + b.roll)).toBeLessThan(8);
      expect(Math.abs(a.pitch - b.pitch)).toBeLessThan(8);
    }
    const frontal = identity.filter((i) => i.who === 'obama' && i.file.startsWith('obama-')).map((i) => i.face.attributes!.pose!);
    for (const p of frontal) expect(Math.abs(p.yaw)).toBeLessThan(20);
  });

  it('mesh: 478 points on the face, mouth below eyes, pupils between eye corners', () => {
    for (const { face: f } of [...identity, ...expr]) {
      const m = f.mesh!;
      expect(m.length).toBe(478);
      const b = f.box, pad = b.width * 0.35;
      const inside = m.filter((p) => p.x > b.x - pad && p.x < b.x + b.width + pad && p.y > b.y - pad && p.y < b.y + b.height + pad).length;
      expect(inside / m.length).toBeGreaterThan(0.95);
      const eyeY = (m[33].y + m[263].y) / 2, mouthY = (m[13].y + m[14].y) / 2, noseY = m[1].y;
      expect(noseY).toBeGreaterThan(eyeY);
      expect(mouthY).toBeGreaterThan(noseY);
      expect(m[33].x).toBeLessThan(m[263].x); // image-left eye on the left
      for (const [pupil, a, c] of [[468, 33, 133], [473, 362, 263]]) {
        expect(m[pupil].x).toBeGreaterThan(Math.min(m[a].x, m[c].x));
        expect(m[pupil].x).toBeLessThan(Math.max(m[a].x, m[c].x));
      }
      // the mesh follows the (coarse) 68-point landmarks: nose tips within 15% of the face width
      const l = f.landmarks68!;
      expect(Math.hypot(m[1].x - l[30].x, m[1].y - l[30].y)).toBeLessThan(b.width * 0.15);
    }
  });

  it('quality: enrolment photos score > 70, partial faces do not, blur and a covered eye lower their parts', async () => {
    // The 150-px identities crops often cut the chin off at the bottom edge (the mesh's chin
    // point at or past the last row). The others are enrolment photos (> 70); a cut-off one may
    // score lower only for its chin. Once the detector found frame-filling faces whole (a
    // zoomed-out pass), their boxes reached the frame's edge and stuart5's cut chin scored 64.
    const cut = (i: (typeof identity)[number]) => i.face.mesh![152].y >= i.height - 2;
    const whole = identity.filter((i) => !cut(i)), cutOff = identity.filter(cut);
    const scores = whole.map((i) => i.face.quality!.score);
    console.log(`quality: ${whole.length} identities with the chin in frame, min ${Math.min(...scores)} median ${scores.sort((a, b) => a - b)[scores.length >> 1]}; ${cutOff.length} cut off: ${cutOff.map((i) => `${i.file} ${i.face.quality!.score}`).join(', ')}`);
    expect(whole.length).toBeGreaterThanOrEqual(40);
    for (const s of scores) expect(s).toBeGreaterThan(70);
    for (const i of cutOff) if (i.face.quality!.score <= 70) expect(i.face.quality!.completeness.chin, i.file).toBe(i.face.quality!.score);
    for (const f of ['obama_partial_face.jpg', 'obama_partial_face2.jpg']) {
      const q = (await face(await load('faces/edge', f))).quality!;
      console.log(`quality: ${f} score ${q.score} completeness ${JSON.stringify(q.completeness)}`);
      expect(q.score).toBeLessThanOrEqual(70);
      expect(q.completeness.cheek).toBeLessThan(80);
    }
    const img = await load('faces/identities/obama', 'obama.jpg');
    const f = await face(img);
    // box blur of the face region: sharpness must drop into Tencent's "blurred" bands
    const blurred = { ...img, data: Buffer.from(img.data) };
    const r = Math.max(2, Math.round(f.box.width / 25));
    for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) for (let c = 0; c < 3; c++) {
      let s = 0, n = 0;
      for (let dx = -r; dx <= r; dx++) { const xx = Math.min(img.width - 1, Math.max(0, x + dx)); s += img.data[(y * img.width + xx) * 3 + c]; n++; }
      blurred.data[(y * img.width + x) * 3 + c] = s / n;
    }
    const vb = { ...blurred, data: Buffer.from(blurred.data) };
    for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) for (let c = 0; c < 3; c++) {
      let s = 0, n = 0;
      for (let dy = -r; dy <= r; dy++) { const yy = Math.min(img.height - 1, Math.max(0, y + dy)); s += blurred.data[(yy * img.width + x) * 3 + c]; n++; }
      vb.data[(y * img.width + x) * 3 + c] = s / n;
    }
    const qb = computeQuality(vb, f)!;
    expect(f.quality!.sharpness).toBeGreaterThan(80);
    expect(qb.sharpness).toBeLessThan(40);
    expect(qb.score).toBeLessThan(70);
    // a flat grey patch over both eyes: eye completeness must fall, mouth must not
    const covered = { ...img, data: Buffer.from(img.data) };
    const ys = [...[33, 133, 263, 362, 159, 145, 386, 374].map((i) => f.mesh![i].y)], xs = [33, 133, 263, 362].map((i) => f.mesh![i].x);
    const y0 = Math.floor(Math.min(...ys) - 10), y1 = Math.ceil(Math.max(...ys) + 10), x0 = Math.floor(Math.min(...xs) - 10), x1 = Math.ceil(Math.max(...xs) + 10);
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) covered.data.fill(128, (y * img.width + x) * 3, (y * img.width + x) * 3 + 3);
    const qc = computeQuality(covered, f)!;
    expect(qc.completeness.eye).toBeLessThan(50);
    expect(qc.completeness.mouth).toBeGreaterThan(80);
    expect(qc.score).toBeLessThan(70);
  });
});
