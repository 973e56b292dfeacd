// Score calibration on every impostor pair the shared test data can give (src/vision/calibration-fit.ts).
//   npm run bench -- calibration          (embeddings cached by bench/embeddings.ts)
// Populations (only pairs known to be different people are impostors):
//   identities   all pairs of the 57 photos of 13 people (genuine + impostor)
//   yale         all pairs of the 164 photos of 15 subjects, hard lighting (genuine + impostor)
//   crowds       every pair of faces within one crowd photo (never across photos: the same
//                friends may appear in several)
//   cross-set    identities × yale × crowd faces × the 6 portraits (different sources, different
//                people); portraits are never paired with crowd faces (they may be the same people)
// Prints the fitted anchors (paste into CALIBRATION_3_0) and the per-population report under the
// shipped scale and under the refit.
import { loadEmbeddings, type FaceRecord } from './embeddings.ts';
import { fitAnchors, formatReport, pairsAcross, pairsWithin, reportPopulations, type Population } from '../src/vision/calibration-fit.ts';
import { CALIBRATION_3_0, cosineToScore, type Calibration } from '../src/vision/calibration.ts';
import { hasTestdata, TESTDATA } from '../test/helpers/testdata.ts';
import { writeResult } from './lib.ts';

export function testdataPopulations(faces: FaceRecord[]): Population[] {
  const of = (p: FaceRecord['population']) => faces.filter((f) => f.population === p);
  const [ids, yale, crowds, portraits] = [of('identities'), of('yale'), of('crowds'), of('portraits')];
  const byPhoto = new Map<string, FaceRecord[]>();
  for (const f of crowds) byPhoto.set(f.photo, [...(byPhoto.get(f.photo) ?? []), f]);
  const crowdImp = [...byPhoto.values()].flatMap((fs) => pairsWithin(fs).impostor);
  const cross = [
    ...pairsAcross(ids, yale), ...pairsAcross(ids, crowds), ...pairsAcross(yale, crowds),
    ...pairsAcross(portraits, ids), ...pairsAcross(portraits, yale), ...pairsWithin(portraits).impostor,
  ];
  return [
    { name: 'identities', ...pairsWithin(ids) },
    { name: 'yale', ...pairsWithin(yale) },
    { name: 'crowds (within photo)', impostor: crowdImp, genuine: [] },
    { name: 'cross-set', impostor: cross, genuine: [] },
  ];
}

async function main() {
  if (!hasTestdata) { console.log(`calibration: test data not found at ${TESTDATA}`); return; }
  const { faces } = await loadEmbeddings();
  const pops = testdataPopulations(faces);
  const fit = fitAnchors(pops);
  const refit = { ...CALIBRATION_3_0, source: 'refit', anchors: fit.anchors } as Calibration;
  console.log('Anchors (cosine, Score):', JSON.stringify(fit.anchors.map(([c, s]) => [s === 0 || s === 100 ? c : Math.ceil(c * 1e4) / 1e4, s])));
  console.table(fit.fits.map((f) => ({ score: f.score, far: f.far, cosine: f.cosine.toFixed(4), setBy: f.setBy })));
  const shipped = reportPopulations(pops, (c) => cosineToScore(c, CALIBRATION_3_0));
  const refitted = reportPopulations(pops, (c) => cosineToScore(c, refit));
  console.log(`\nUnder the shipped scale (${CALIBRATION_3_0.source}):\n${formatReport(shipped)}`);
  console.log(`\nUnder the refit:\n${formatReport(refitted)}`);
  const file = writeResult('calibration', { command: 'npm run bench -- calibration', fit, shipped, refitted });
  console.log(`\nwrote ${file}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
