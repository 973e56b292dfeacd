// Identification accuracy of the library path (engine embedding -> index -> calibrated Score) on the
// shared photos: one enrolment photo per person, every other photo searched. bench/accuracy-search.ts
// prints the same figures for docs/MODELS.md.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { visionFaceSource } from '../src/services/library/face-source.ts';
import { VisionEngine } from '../src/services/media/vision-engine.ts';
import { VectorIndex } from '../src/search/vector-index.ts';
import { cosineToScore } from '../src/vision/calibration.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';

if (!hasTestdata) console.log(testdataSkipReason);
const HELD_OUT = new Set(['alex_lacamoire', 'rose_leslie', 'stuart']);

describe.skipIf(!hasTestdata)('1:N identification on test photos', () => {
  it('identifies enrolled persons and matches no stranger at Score 60', async () => {
    const vision = new VisionEngine({ threads: 2 }, { allowList: [] });
    const src = visionFaceSource(vision);
    try {
      const caller = { appId: 0, uin: '', subUin: '' };
      const embed = async (f: string) => (await src.faces(caller, { Image: fs.readFileSync(f).toString('base64') }, { maxFaces: 1, modelVersion: '3.0' })).faces[0]?.embedding;
      const idx = new VectorIndex();
      const probes: { who: string; file: string; enrolled: boolean }[] = [];
      const dir = td('faces', 'identities');
      for (const who of fs.readdirSync(dir).sort()) {
        const files = fs.readdirSync(`${dir}/${who}`).sort().map((f) => `${dir}/${who}/${f}`);
        if (HELD_OUT.has(who)) { probes.push(...files.map((file) => ({ who, file, enrolled: false }))); continue; }
        idx.upsert(files[0], who, (await embed(files[0]))!);
        probes.push(...files.slice(1).map((file) => ({ who, file, enrolled: true })));
      }
      let right = 0, enrolled = 0, falseMatches = 0;
      for (const p of probes) {
        const e = await embed(p.file);
        expect(e, p.file).toBeDefined();
        const hit = idx.search(e!, 1)[0];
        if (p.enrolled) { enrolled++; if (hit.owner === p.who) right++; } else if (cosineToScore(hit.score) >= 60) falseMatches++;
      }
      expect(enrolled).toBeGreaterThan(30);
      expect(right / enrolled).toBeGreaterThanOrEqual(0.95);
      expect(falseMatches).toBe(0);
    } finally {
      await vision.close();
    }
  }, 180_000);
});
