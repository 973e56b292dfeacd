// A template and a user photo from the test data, each with its largest face's mesh and depth:
// the input of an engine-level fusion test (fuseIntoTemplate), analysed once per file.
import fs from 'node:fs';
import { td } from './testdata.ts';
import { InferencePool } from '../../src/vision/inference-pool.ts';
import { decodeImage } from '../../src/vision/image-decode.ts';
import { MESH_POINTS } from '../../src/vision/fusion/geometry.ts';
import { meshArray } from '../../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../../src/vision/types.ts';

export type Analysed = { img: RgbImage; mesh: Float64Array; z: Float64Array };

const largest = (f: Face[]) => f.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));

/** Each photo (paths under testdata/faces) decoded and its largest face's mesh found. */
export async function analysePhotos(...photos: string[][]): Promise<Analysed[]> {
  const pool = await InferencePool.start({ threads: 1 });
  try {
    const out: Analysed[] = [];
    for (const p of photos) {
      const img = await decodeImage(fs.readFileSync(td('faces', ...p)));
      const f = largest((await pool.analyze(img, { mesh: true, meshIris: false })).faces);
      out.push({ img, mesh: meshArray(f.mesh!), z: Float64Array.from(f.meshZ!.slice(0, MESH_POINTS)) });
    }
    return out;
  } finally { await pool.close(); }
}
