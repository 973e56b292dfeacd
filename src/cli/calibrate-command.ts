// `facevault calibrate <dir>`: refit the cosine → Score map on the operator's own labelled photos
// (<dir>/<person>/<photos>), print the same FAR/TAR report as docs/MODELS.md, and store the fit
// as a new version in the data dir, which every process then loads at start.
// `facevault calibrate --revert` goes back to the previous version (or the shipped one).
// `--dry-run` prints the report without storing anything.
import fs from 'node:fs';
import path from 'node:path';
import { FaceAnalyzer } from '../vision/face-analyzer.ts';
import { decodeImage } from '../vision/image-decode.ts';
import { modelSetDirsFromEnv } from '../vision/model-set.ts';
import { cosineToScore, type Calibration } from '../vision/calibration.ts';
import { clopperPearsonUpper, fitAnchors, formatReport, pairsWithin, reportPopulations, type LabelledEmbedding } from '../vision/calibration-fit.ts';
import { CalibrationFiles } from '../store/calibration/calibration-files.ts';
import { loadActiveCalibration } from '../services/recognition/active-calibration.ts';

const IMAGE = /\.(jpe?g|png|webp|bmp)$/i;
/** Score 40 means FAR 1e-3: fewer impostor pairs than this cannot show it even with none accepted. */
const MIN_IMPOSTOR_PAIRS = Math.ceil(Math.log(0.05) / Math.log(1 - 1e-3)); // 2,995

export interface CalibrateResult { text: string; stored: number | null }

export async function calibrateCommand(dir: string, opts: { dataDir: string; dryRun: boolean; modelVersion?: string }): Promise<CalibrateResult> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory of person folders`);
  const analyzer = await FaceAnalyzer.load({ tasks: [], extraModelSetDirs: modelSetDirsFromEnv(), set: opts.modelVersion });
  const version = analyzer.set.version;
  const items: LabelledEmbedding[] = [];
  const skipped: string[] = [];
  const people = fs.readdirSync(dir).filter((p) => fs.statSync(path.join(dir, p)).isDirectory()).sort();
  for (const person of people) {
    for (const f of fs.readdirSync(path.join(dir, person)).filter((f) => IMAGE.test(f)).sort()) {
      try {
        const r = await analyzer.analyze(await decodeImage(fs.readFileSync(path.join(dir, person, f))), { embedding: true, maxFaces: 1, singleFace: true });
        if (r.faces.length) items.push({ id: person, embedding: r.faces[0].embedding! });
        else skipped.push(`${person}/${f}: no face`);
      } catch (e) {
        skipped.push(`${person}/${f}: ${(e as Error).message}`);
      }
    }
  }
  const pairs = pairsWithin(items);
  if (new Set(items.map((i) => i.id)).size < 2) throw new Error(`${dir}: need photos of at least 2 people (one folder each)`);
  if (pairs.impostor.length < MIN_IMPOSTOR_PAIRS) {
    throw new Error(`${dir}: ${pairs.impostor.length} impostor pairs cannot support Score 40 (FAR 0.1%, 95% bound); at least ${MIN_IMPOSTOR_PAIRS} are needed (e.g. 90 photos of 9 or more people)`);
  }
  const pop = [{ name: path.basename(path.resolve(dir)), ...pairs }];
  const fit = fitAnchors(pop);
  const current = loadActiveCalibration(opts.dataDir, version);
  const cal: Calibration = {
    modelVersion: version,
    source: `facevault calibrate on ${items.length} photos of ${people.length} people (${pairs.impostor.length} impostor pairs), ${new Date().toISOString()}`,
    anchors: fit.anchors,
  };
  const lines = [
    `${items.length} photos of ${people.length} people: ${pairs.genuine.length} genuine and ${pairs.impostor.length} impostor pairs` + (skipped.length ? `; skipped ${skipped.length}:\n  ${skipped.join('\n  ')}` : ''),
    `95% upper bound on FAR with no false accept: ${clopperPearsonUpper(0, pairs.impostor.length).toExponential(2)}`,
    '', 'Anchors of the new fit:',
    ...fit.fits.map((f) => `  Score ${f.score} (FAR ${f.far}): cosine ${f.cosine.toFixed(4)}${f.setBy === 'extrapolated' ? '  (extrapolated: these pairs cannot show this FAR)' : ''}`),
    '', `Under the current calibration (${current.version === null ? 'shipped' : `v${current.version}`}: ${current.calibration.source}):`,
    formatReport(reportPopulations(pop, (c) => cosineToScore(c, current.calibration))),
    '', 'Under the new fit:', formatReport(reportPopulations(pop, (c) => cosineToScore(c, cal))),
  ];
  let stored: number | null = null;
  if (!opts.dryRun) {
    stored = new CalibrationFiles(opts.dataDir, version).save({ calibration: cal, fit: fit.fits, skipped });
    lines.push('', `stored as v${stored} and made active for FaceModelVersion ${version}; restart the servers to use it (undo: facevault calibrate --revert)`);
  } else lines.push('', 'dry run: nothing stored');
  return { text: lines.join('\n'), stored };
}

export function revertCalibration(dataDir: string, modelVersion = '3.0'): string {
  const r = new CalibrationFiles(dataDir, modelVersion).revert();
  if (!r) return `no operator calibration is active for FaceModelVersion ${modelVersion}: the shipped one is in use`;
  return `reverted v${r.from}; now active: ${r.to === null ? 'the shipped calibration' : `v${r.to}`} (restart the servers to use it)`;
}
