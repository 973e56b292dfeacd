// Embeddings of every labelled face in the shared test data, cached in bench/results/ so the
// calibration and accuracy benches do not recompute them (the cache is keyed by model version
// and by the files' sizes and times; delete it to force a rebuild).
//   npm run bench -- embeddings      (build or refresh the cache, print what is in it)
// Populations (who may be paired with whom is decided in bench/calibration.ts):
//   identities  faces/identities/<person>/*   main face of each photo
//   yale        faces/yale/<subject>/*        main face of each photo
//   crowds      faces/crowds/group-*.jpg      every face ≥ 34 px; each face its own identity
//   portraits   faces/crowds/person-*.jpg     main face; one identity per file
import fs from 'node:fs';
import path from 'node:path';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';
import { BENCH_DIR } from './lib.ts';

export interface FaceRecord {
  population: 'identities' | 'yale' | 'crowds' | 'portraits';
  /** Identity label: same label = same person. Crowd faces are `<photo>#<i>`. */
  id: string;
  /** The photo the face came from (crowd faces of one photo share it). */
  photo: string;
  width: number;
  embedding: Float32Array;
}

const CACHE = path.join(BENCH_DIR, 'results', 'embeddings-3.0.json');

function listing(): { population: FaceRecord['population']; id: string; file: string; all: boolean }[] {
  const out: { population: FaceRecord['population']; id: string; file: string; all: boolean }[] = [];
  for (const pop of ['identities', 'yale'] as const) {
    const root = path.join(TESTDATA, 'faces', pop);
    for (const id of fs.readdirSync(root).sort()) {
      if (!fs.statSync(path.join(root, id)).isDirectory()) continue;
      for (const f of fs.readdirSync(path.join(root, id)).sort()) out.push({ population: pop, id: `${pop}/${id}`, file: path.join('faces', pop, id, f), all: false });
    }
  }
  const crowds = path.join(TESTDATA, 'faces/crowds');
  for (const f of fs.readdirSync(crowds).sort()) {
    if (!/\.(jpe?g|png)$/i.test(f)) continue;
    const group = f.startsWith('group-');
    out.push({ population: group ? 'crowds' : 'portraits', id: `crowds/${f}`, file: path.join('faces/crowds', f), all: group });
  }
  return out;
}

function fingerprint(files: string[]): string {
  return files.map((f) => { const s = fs.statSync(path.join(TESTDATA, f)); return `${f}:${s.size}:${Math.round(s.mtimeMs)}`; }).join('|');
}

export async function loadEmbeddings(log = false): Promise<{ faces: FaceRecord[]; noFace: string[] }> {
  const items = listing();
  const fp = fingerprint(items.map((i) => i.file));
  if (fs.existsSync(CACHE)) {
    const c = JSON.parse(fs.readFileSync(CACHE, 'utf8'));
    if (c.fingerprint === fp) {
      return {
        noFace: c.noFace,
        faces: c.faces.map((f: FaceRecord & { embedding: string }) => ({ ...f, embedding: new Float32Array(new Uint8Array(Buffer.from(f.embedding, 'base64')).buffer) })),
      };
    }
  }
  const analyzer = await FaceAnalyzer.load({ tasks: [] });
  const faces: FaceRecord[] = [];
  const noFace: string[] = [];
  for (const it of items) {
    const img = await decodeImage(fs.readFileSync(path.join(TESTDATA, it.file)));
    // One-face photos go the way CompareFace and Verify* take them (singleFace); crowd faces are all kept.
    const r = await analyzer.analyze(img, it.all ? { embedding: true, minFaceSize: 34 } : { embedding: true, maxFaces: 1, singleFace: true });
    if (!r.faces.length) { noFace.push(it.file); continue; }
    r.faces.forEach((f, i) => faces.push({ population: it.population, id: it.all ? `${it.id}#${i}` : it.id, photo: it.file, width: Math.round(f.box.width), embedding: f.embedding! }));
    if (log) console.log(`${it.file}: ${r.faces.length} face(s)`);
  }
  fs.mkdirSync(path.dirname(CACHE), { recursive: true });
  fs.writeFileSync(CACHE, JSON.stringify({
    fingerprint: fp, noFace,
    faces: faces.map((f) => ({ ...f, embedding: Buffer.from(f.embedding.buffer, f.embedding.byteOffset, f.embedding.byteLength).toString('base64') })),
  }));
  return { faces, noFace };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!hasTestdata) { console.log(`embeddings: test data not found at ${TESTDATA}`); process.exit(0); }
  const { faces, noFace } = await loadEmbeddings(true);
  const count = (p: string) => faces.filter((f) => f.population === p).length;
  console.log({ identities: count('identities'), yale: count('yale'), crowds: count('crowds'), portraits: count('portraits'), noFace, cache: CACHE });
}
