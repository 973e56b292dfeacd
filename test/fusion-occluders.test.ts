// Issue 16 item 2: whatever covers the template's face stays in front — here a skin-coloured
// hand (test/helpers/occluders.ts), which colour statistics alone cannot tell from skin
// (occlusion.ts flatPatches finds it: no fine texture, a sharp contour, coming in from the
// face's edge). Built so the answer is exact: a real photo is both template and user (same
// mesh, identity warp); the template's copy has the hand pasted on. The result must keep the
// hand; and on the clean photo, the mask must take nothing of the user's face (a checkerboard
// on the user's copy comes through whole), so keeping occluders costs no identity there.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate, fusedMesh, type FuseFaceJob, type FusionTuning } from '../src/vision/fusion/fuse.ts';
import { ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { hull, scalePoly } from '../src/vision/fusion/occlusion.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import { pasteOccluder, type OccluderKind } from './helpers/occluders.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';

const largest = (f: Face[]) => f.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
const AMP = 24;
const checker = (x: number, y: number) => (((x >> 1) + (y >> 1)) & 1 ? 1 : -1);

describe.skipIf(!hasTestdata)(`fusion: the template's occluders stay in front${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const photos: Record<string, { img: RgbImage; mesh: Float64Array }> = {};
  beforeAll(async () => {
    const pool = await InferencePool.start({ threads: 1 });
    try {
      for (const [name, file] of [['rose', ['identities', 'rose_leslie', 'img1.jpg']], ['obama', ['identities', 'obama', 'obama.jpg']], ['alex', ['identities', 'alex_lacamoire', 'img1.jpg']], ['subject14', ['yale', 'subject14', 'subject14.normal.jpg']], ['rose2', ['identities', 'rose_leslie', 'img2.jpg']]] as const) {
        const img = await decodeImage(fs.readFileSync(td('faces', ...file)));
        photos[name] = { img, mesh: meshArray(largest((await pool.analyze(img, { mesh: true, meshIris: false })).faces).mesh!) };
      }
      // The template with the hand, as a customer's photo would be: its mesh detected on it (the hand moves it).
      const { img: handImg } = pasteOccluder(photos.rose.img, photos.rose.mesh, 'hand');
      photos.roseHand = { img: handImg, mesh: meshArray(largest((await pool.analyze(handImg, { mesh: true, meshIris: false })).faces).mesh!) };
    } finally { await pool.close(); }
  }, 120_000);

  const fuse = (T: RgbImage, U: RgbImage, mesh: Float64Array, tuning: Partial<FusionTuning>) => {
    const job: FuseFaceJob = { templateMesh: mesh, user: U, userMesh: mesh, profile: 0, appearance: 0, tuning };
    const patch = fuseIntoTemplate(T, [job]);
    const out = Buffer.from(T.data);
    for (let y = 0; y < patch.height; y++) out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * T.width + patch.x) * 3);
    return { R: { width: T.width, height: T.height, data: out } as RgbImage, P: fusedMesh(job) };
  };
  /** Mean |R − T| (levels) over the occluder inside ring 0.95 of the fused mesh (where the user's face would be pasted). */
  const changeUnder = (R: RgbImage, T: RgbImage, mask: Float32Array, P: Float64Array) => {
    const face = fillPolygon(ring(P, 0.95), T.width, T.height);
    let s = 0, n = 0;
    for (let p = 0; p < mask.length; p++) if (mask[p] > 0.5 && face[p]) { for (let c = 0; c < 3; c++) s += Math.abs(R.data[p * 3 + c] - T.data[p * 3 + c]) / 3; n++; }
    expect(n).toBeGreaterThan(2000);
    return s / n;
  };

  it.each([['rose', 'hand'], ['obama', 'hand'], ['obama', 'glasses-bar']] as [string, OccluderKind][])('keeps a pasted %s %s in front', (who, kind) => {
    const { img: U, mesh } = photos[who];
    const { img: T, mask } = pasteOccluder(U, mesh, kind);
    const on = fuse(T, U, mesh, { occlusion: 'template' }), off = fuse(T, U, mesh, { occlusion: 'off' });
    const dOn = changeUnder(on.R, T, mask, on.P), dOff = changeUnder(off.R, T, mask, off.P);
    console.log(`${who} ${kind}: change under the occluder ${dOn.toFixed(1)} (occlusion off: ${dOff.toFixed(1)})`);
    expect(dOn).toBeLessThan(0.5 * dOff);
  });

  it.each(['rose', 'obama'])('takes nothing of the user\'s face on the clean photo (%s)', (who) => {
    const { img: T, mesh } = photos[who];
    const d = Buffer.from(T.data);
    for (let y = 0; y < T.height; y++) for (let x = 0; x < T.width; x++) { const p = y * T.width + x; for (let c = 0; c < 3; c++) d[p * 3 + c] = Math.max(0, Math.min(255, d[p * 3 + c] + AMP * checker(x, y))); }
    const U: RgbImage = { width: T.width, height: T.height, data: d };
    const share = (tuning: Partial<FusionTuning>) => {
      const { R, P } = fuse(T, U, mesh, tuning);
      const inner = fillPolygon(ring(P, 0.85), T.width, T.height);
      let s = 0, n = 0;
      for (let p = 0; p < inner.length; p++) {
        if (!inner[p]) continue;
        const x = p % T.width, y = (p / T.width) | 0, sg = checker(x, y);
        for (let c = 0; c < 3; c++) { s += ((R.data[p * 3 + c] - T.data[p * 3 + c]) * sg) / AMP; n++; }
      }
      return s / n;
    };
    const on = share({ occlusion: 'template' }), off = share({ occlusion: 'off' });
    console.log(`${who} clean: share of the user's face inside ring 0.85 ${on.toFixed(3)} (occlusion off: ${off.toFixed(3)})`);
    expect(on).toBeGreaterThan(off - 0.01);
  });

  /** The photo with a checkerboard of ±AMP: the user's face, told apart from the template's pixel by pixel. */
  const checkered = (T: RgbImage): RgbImage => {
    const d = Buffer.from(T.data);
    for (let y = 0; y < T.height; y++) for (let x = 0; x < T.width; x++) { const p = y * T.width + x; for (let c = 0; c < 3; c++) d[p * 3 + c] = Math.max(0, Math.min(255, d[p * 3 + c] + AMP * checker(x, y))); }
    return { width: T.width, height: T.height, data: d };
  };
  /** Per pixel of `where`: the share of the user's checkerboard in R (1 = the user's, 0 = the template's) and the mean |R − T|. */
  const shareAndChange = (R: RgbImage, T: RgbImage, where: (p: number) => boolean) => {
    let s = 0, dt = 0, n = 0;
    for (let p = 0; p < T.width * T.height; p++) {
      if (!where(p)) continue;
      const sg = checker(p % T.width, (p / T.width) | 0);
      for (let c = 0; c < 3; c++) { s += ((R.data[p * 3 + c] - T.data[p * 3 + c]) * sg) / AMP / 3; dt += Math.abs(R.data[p * 3 + c] - T.data[p * 3 + c]) / 3; }
      n++;
    }
    expect(n).toBeGreaterThan(300);
    return { share: s / n, change: dt / n };
  };
  const LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185];

  // A flat skin-coloured palm over the image-right third of the mouth, in from the cheek: the
  // part of it over the lips' hull (which the mask decides apart from the skin) must stay too
  // (kit_harington@hand <- obama: the user's smile was painted over the palm there).
  it('keeps a hand over part of the mouth in front, over the lips too (obama)', () => {
    const { img: C, mesh } = photos.obama;
    const m = (i: number) => [mesh[2 * i], mesh[2 * i + 1]];
    const [lx, ly] = m(61), [rx, ry] = m(291), [, ty] = m(10), [, cy] = m(152);
    const fsz = cy - ty, mouthW = rx - lx;
    // The palm's left edge a third of the mouth's width in from its right corner.
    const ax = 0.3 * fsz, ay = 0.2 * fsz, px = rx - mouthW / 3 + ax, py = ry;
    const d = Buffer.from(C.data);
    for (let y = 0; y < C.height; y++) for (let x = 0; x < C.width; x++) {
      if (((x + 0.5 - px) / ax) ** 2 + ((y + 0.5 - py) / ay) ** 2 > 1) continue;
      const p = y * C.width + x, shade = 1 - (0.15 * (y - py)) / fsz;
      d[p * 3] = Math.round(224 * shade); d[p * 3 + 1] = Math.round(172 * shade); d[p * 3 + 2] = Math.round(140 * shade);
    }
    const T: RgbImage = { width: C.width, height: C.height, data: d };
    const U = checkered(C);
    const { R, P } = fuse(T, U, mesh, { occlusion: 'template' });
    const lips = fillPolygon(scalePoly(hull(LIPS, P), 1.35), T.width, T.height), inner = fillPolygon(ring(P, 0.85), T.width, T.height);
    // Well inside the palm (its soft edge is blended), over the lips' hull; and the face away from the palm.
    const core = new Float32Array(T.width * T.height);
    for (let p = 0; p < core.length; p++) { const x = p % T.width, y = (p / T.width) | 0; core[p] = ((x + 0.5 - px) / (0.85 * ax)) ** 2 + ((y + 0.5 - py) / (0.85 * ay)) ** 2 <= 1 ? 1 : 0; }
    const overLips = shareAndChange(R, T, (p) => core[p] > 0 && lips[p] > 0);
    const away = shareAndChange(R, T, (p) => inner[p] > 0 && !lips[p] && ((p % T.width) + 0.5 - px) / ax < -1.3);
    console.log(`obama palm over the mouth: over the lips' hull change ${overLips.change.toFixed(1)}, user share ${overLips.share.toFixed(2)}; user share away from the palm ${away.share.toFixed(2)}`);
    expect(overLips.change).toBeLessThan(3);
    expect(away.share).toBeGreaterThan(0.9);
  });

  // A hand next to a moustache: the hand's cells are not skin samples, or its bright flat colour
  // made the moustache beside it an occluder too (alex_lacamoire@hand: the template's moustache
  // and goatee kept over the user's bare lip).
  it('keeps the hand but not the moustache beside it (alex)', () => {
    const { img: C, mesh } = photos.alex;
    const { img: T, mask } = pasteOccluder(C, mesh, 'hand');
    const U = checkered(C);
    const { R, P } = fuse(T, U, mesh, { occlusion: 'template' });
    // The moustache: between the nose's base and the upper lip's middle, the mouth's width, clear of the hand.
    const inner = fillPolygon(ring(P, 0.85), T.width, T.height);
    const lx = mesh[2 * 61], rx = mesh[2 * 291], top = mesh[2 * 2 + 1], bottom = mesh[2 * 0 + 1];
    const clear = (p: number) => { const x = p % T.width, y = (p / T.width) | 0; for (let dy = -12; dy <= 12; dy += 4) for (let dx = -12; dx <= 12; dx += 4) { const q = (y + dy) * T.width + x + dx; if (mask[q] > 0) return false; } return true; };
    const moustache = shareAndChange(R, T, (p) => { const x = p % T.width, y = (p / T.width) | 0; return inner[p] > 0 && x > lx && x < rx && y > top && y < bottom && clear(p); });
    const hand = changeUnder(R, T, mask, P), off = fuse(T, U, mesh, { occlusion: 'off' }), handOff = changeUnder(off.R, T, mask, off.P);
    console.log(`alex hand beside the moustache: user share over the moustache ${moustache.share.toFixed(2)}; change under the hand ${hand.toFixed(1)} (occlusion off: ${handOff.toFixed(1)})`);
    expect(moustache.share).toBeGreaterThan(0.8);
    expect(hand).toBeLessThan(0.5 * handOff);
  });

  // The hand over the cheek beside the mouth: the lips beside it, clear of the hand, are the
  // user's. A feature used to count as covered whole when most of the skin around it was, and
  // in the fused mesh (the user's shape) the hand can be most of the skin around the lips
  // (fusion-quality panel, rose_leslie@hand <- subject14: the template's lips kept beside the
  // palm, Score 17 → 22; kit_harington@hand <- rose 13 → 35). The user's face is warped here, so
  // "the user's" is measured as "not the template's pixels as they are": with the template's
  // lips kept, R equals T there.
  it.each(['subject14', 'alex'])('keeps the hand but not the lips beside it (rose@hand <- %s)', (u) => {
    const { img: T, mesh: tMesh } = photos.roseHand, mask = pasteOccluder(photos.rose.img, photos.rose.mesh, 'hand').mask;
    const job: FuseFaceJob = { templateMesh: tMesh, user: photos[u].img, userMesh: photos[u].mesh, profile: 0, appearance: 0, tuning: { occlusion: 'template' } };
    const patch = fuseIntoTemplate(T, [job]), P = fusedMesh(job);
    const R = (p: number, c: number) => { const x = p % T.width, y = (p / T.width) | 0, px = x - patch.x, py = y - patch.y; return px >= 0 && py >= 0 && px < patch.width && py < patch.height ? patch.data[(py * patch.width + px) * 3 + c] : T.data[p * 3 + c]; };
    const lips = fillPolygon(hull(LIPS, P), T.width, T.height);
    const clear = (p: number) => { const x = p % T.width, y = (p / T.width) | 0; for (let dy = -12; dy <= 12; dy += 4) for (let dx = -12; dx <= 12; dx += 4) { const q = (y + dy) * T.width + x + dx; if (mask[q] > 0) return false; } return true; };
    let kept = 0, n = 0;
    for (let p = 0; p < lips.length; p++) {
      if (!lips[p] || !clear(p)) continue;
      n++;
      let d = 0;
      for (let c = 0; c < 3; c++) d += Math.abs(R(p, c) - T.data[p * 3 + c]) / 3;
      if (d < 2) kept++;
    }
    expect(n).toBeGreaterThan(300);
    console.log(`rose@hand <- ${u}: the template's own pixels over the fused lips clear of the hand ${(100 * kept / n).toFixed(1)}% of ${n}`);
    expect(kept / n).toBeLessThan(0.1);
  });

  // A palm over the cheek's edge, most of it outside the inner face where the mask decides on
  // skin: found inside the template's own face outline too, or the user's face was pasted over
  // the part of the palm on the face's rim (a half-moon of hand left beside the user's cheek).
  it.each(['obama', 'rose'])('keeps a palm over the cheek\'s edge in front (%s)', (who) => {
    const { img: C, mesh } = photos[who];
    const m = (i: number) => [mesh[2 * i], mesh[2 * i + 1]];
    const [, ty] = m(10), [, cy] = m(152), [rx, ry] = m(291);
    const fsz = cy - ty, ax = 0.12 * fsz, ay = 0.2 * fsz, px = rx + 0.03 * fsz + ax, py = ry;
    const d = Buffer.from(C.data), mask = new Float32Array(C.width * C.height);
    for (let y = 0; y < C.height; y++) for (let x = 0; x < C.width; x++) {
      if (((x + 0.5 - px) / ax) ** 2 + ((y + 0.5 - py) / ay) ** 2 > 1) continue;
      const p = y * C.width + x, shade = 1 - (0.15 * (y - py)) / fsz;
      mask[p] = 1;
      d[p * 3] = Math.round(224 * shade); d[p * 3 + 1] = Math.round(172 * shade); d[p * 3 + 2] = Math.round(140 * shade);
    }
    const T: RgbImage = { width: C.width, height: C.height, data: d };
    const on = fuse(T, checkered(C), mesh, { occlusion: 'template' }), off = fuse(T, checkered(C), mesh, { occlusion: 'off' });
    const dOn = changeUnder(on.R, T, mask, on.P), dOff = changeUnder(off.R, T, mask, off.P);
    console.log(`${who} palm over the cheek's edge: change under it ${dOn.toFixed(1)} (occlusion off: ${dOff.toFixed(1)})`);
    expect(dOn).toBeLessThan(0.25 * dOff);
  });
});
