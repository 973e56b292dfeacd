// The Score calibration method (calibration-fit.ts), its versioned store and `facevault calibrate`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binomialCdf, clopperPearsonUpper, fitAnchors, supportedThreshold } from '../src/vision/calibration-fit.ts';
import { CALIBRATION_3_0, cosineToScore, parseCalibration } from '../src/vision/calibration.ts';
import { CalibrationFiles } from '../src/store/calibration/calibration-files.ts';
import { loadActiveCalibration } from '../src/services/recognition/active-calibration.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-cal-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Clopper–Pearson bound', () => {
  it('matches known values and the rule of three', () => {
    expect(clopperPearsonUpper(0, 100)).toBeCloseTo(0.0295, 4); // 1 − 0.05^(1/100)
    expect(clopperPearsonUpper(1, 100)).toBeCloseTo(0.0466, 3); // tables: 4.66%
    expect(clopperPearsonUpper(10, 1000)).toBeCloseTo(0.0169, 3);
    expect(clopperPearsonUpper(0, 30000) * 30000).toBeCloseTo(3, 1);
    const u = clopperPearsonUpper(5, 2000);
    expect(binomialCdf(5, 2000, u)).toBeCloseTo(0.05, 6); // definition
  });
});

describe('fitAnchors', () => {
  // Deterministic impostor cosines: a uniform grid on [-0.3, 0.3], plus a hard population.
  const grid = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * (i + 0.5)) / n);
  const easy = { name: 'easy', impostor: grid(40000, -0.3, 0.3), genuine: grid(100, 0.5, 0.9) };
  const hard = { name: 'hard', impostor: grid(5000, -0.2, 0.45), genuine: [] };

  it('puts each anchor where the 95% bound on FAR first meets the target, the hardest set deciding', () => {
    const fit = fitAnchors([easy, hard]);
    const at = (s: number) => fit.fits.find((f) => f.score === s)!;
    for (const f of fit.fits.filter((f) => f.setBy !== 'extrapolated')) {
      for (const pop of [easy, hard, { name: 'pooled', impostor: [...easy.impostor, ...hard.impostor] }]) {
        const n = pop.impostor.length;
        const k = pop.impostor.filter((c) => c >= f.cosine).length;
        if (clopperPearsonUpper(0, n) <= f.far) expect(clopperPearsonUpper(k, n), `${pop.name} at ${f.score}`).toBeLessThanOrEqual(f.far);
      }
    }
    expect(at(40).setBy).toBe('hard'); // its tail is heavier; 5,000 pairs can show 1e-3
    expect(at(50).setBy).toBe('pooled'); // only 45,000 pairs can show 1e-4
    expect(at(50).cosine).toBeGreaterThan(Math.max(...hard.impostor)); // above every impostor
    expect(at(60).setBy).toBe('extrapolated');
    expect(at(60).cosine - at(50).cosine).toBeGreaterThanOrEqual(at(50).cosine - at(40).cosine - 1e-12);
    const cal = parseCalibration({ modelVersion: '3.0', source: 't', anchors: fit.anchors });
    expect(cosineToScore(0.46, cal)).toBeGreaterThanOrEqual(50);
  });

  it('the threshold is exact: one impostor fewer accepted than the bound allows', () => {
    const s = Float64Array.from(grid(3000, 0, 1)).reverse();
    const t = supportedThreshold(s, 1e-2)!;
    const k = s.filter((c) => c >= t).length;
    expect(clopperPearsonUpper(k, 3000)).toBeLessThanOrEqual(1e-2);
    expect(clopperPearsonUpper(k + 1, 3000)).toBeGreaterThan(1e-2);
    expect(supportedThreshold(s, 1e-4)).toBeNull(); // 3,000 pairs cannot show 1e-4
  });
});

describe('calibration files', () => {
  it('versions, activates and reverts; a broken active file stops loading', () => {
    const dir = path.join(tmp, 'store');
    const files = new CalibrationFiles(dir, '3.0');
    expect(loadActiveCalibration(dir).version).toBeNull();
    const a = { ...CALIBRATION_3_0, source: 'a', anchors: CALIBRATION_3_0.anchors.map(([c, s]) => [s === 40 ? c + 0.01 : c, s]) };
    expect(files.save({ calibration: a })).toBe(1);
    expect(files.save({ calibration: { ...a, source: 'b' } })).toBe(2);
    expect(loadActiveCalibration(dir)).toMatchObject({ version: 2, calibration: { source: 'b' } });
    expect(files.revert()).toEqual({ from: 2, to: 1 });
    expect(loadActiveCalibration(dir).calibration.source).toBe('a');
    expect(files.revert()).toEqual({ from: 1, to: null });
    expect(loadActiveCalibration(dir).calibration).toBe(CALIBRATION_3_0);
    expect(files.revert()).toBeNull();
    expect(files.versions()).toEqual([1, 2]); // history is kept
    files.save({ calibration: { ...a, anchors: [[-1, 0], [0.5, 60], [0.4, 70], [1, 100]] } });
    expect(() => loadActiveCalibration(dir)).toThrow(/calibrate --revert/);
  });
});

describe.skipIf(!hasTestdata)('facevault calibrate', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  it('refits on a labelled folder, stores an active version every process loads, and reverts', async () => {
    const { calibrateCommand, revertCalibration } = await import('../src/cli/calibrate-command.ts');
    const dataDir = path.join(tmp, 'data');
    const dry = await calibrateCommand(td('faces/yale'), { dataDir, dryRun: true });
    expect(dry.stored).toBeNull();
    expect(dry.text).toMatch(/164 photos of 15 people: \d+ genuine and 12551 impostor pairs/);
    expect(dry.text).toMatch(/\| yale \| 12551 \| \d+ \| 40 \|/);
    expect(loadActiveCalibration(dataDir).version).toBeNull();
    const real = await calibrateCommand(td('faces/yale'), { dataDir, dryRun: false });
    expect(real.stored).toBe(1);
    const active = loadActiveCalibration(dataDir);
    expect(active.version).toBe(1);
    expect(active.calibration.source).toMatch(/12551 impostor pairs/);
    expect(active.calibration.anchors).not.toEqual(CALIBRATION_3_0.anchors);
    expect(revertCalibration(dataDir)).toMatch(/reverted v1; now active: the shipped/);
    expect(loadActiveCalibration(dataDir).calibration).toBe(CALIBRATION_3_0);
    // Too few pairs to show Score 40 is refused, not extrapolated from nothing.
    await expect(calibrateCommand(td('faces/identities'), { dataDir, dryRun: true })).rejects.toThrow(/cannot support Score 40/);
  }, 120_000);
});
