// Synthetic 512-d features for bench/search.ts, cached under bench/results/ (gitignored) so the
// 1M set is generated once. "clustered": persons with a random unit centre, 5 faces each at
// cosine ~0.7 to the centre; queries are fresh samples of random enrolled persons (cos ~0.7).
// "uniform": random unit vectors, queries random unit vectors (worst case for any prefilter).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DIM = 512;
export const FACES_PER_PERSON = 5;
const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS = path.join(here, 'results');

class Rng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number { let x = this.s; x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; this.s = x; return x; }
  uniform(): number { return (this.u32() + 0.5) / 4294967296; }
  gauss(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    const u = this.uniform(), v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  unit(out: Float32Array, off: number): void {
    let n = 0;
    for (let i = 0; i < DIM; i++) { const g = this.gauss(); out[off + i] = g; n += g * g; }
    n = 1 / Math.sqrt(n);
    for (let i = 0; i < DIM; i++) out[off + i] *= n;
  }
}

/** face = 0.7*centre + 0.714*noise, noise a random unit vector (nearly orthogonal in 512-d). */
function sampleAround(rng: Rng, centre: Float32Array, cOff: number, out: Float32Array, off: number, tmp: Float32Array) {
  rng.unit(tmp, 0);
  const a = 0.7, b = Math.sqrt(1 - a * a);
  let n = 0;
  for (let i = 0; i < DIM; i++) { const v = a * centre[cOff + i] + b * tmp[i]; out[off + i] = v; n += v * v; }
  n = 1 / Math.sqrt(n);
  for (let i = 0; i < DIM; i++) out[off + i] *= n;
}

export interface DataSet {
  n: number;
  vectors: Float32Array; // n * DIM
  owner(i: number): number; // person index of face i
  queries: Float32Array; // q * DIM
  queryOwner: Int32Array; // -1 for uniform
}

export function loadOrMake(kind: 'clustered' | 'uniform', n: number, q: number, log: (s: string) => void): DataSet {
  fs.mkdirSync(RESULTS, { recursive: true });
  const base = path.join(RESULTS, `${kind}-${n}`);
  const vf = `${base}.f32`, qf = `${base}-q${q}.f32`, of = `${base}-q${q}.owner`;
  let vectors: Float32Array, queries: Float32Array, queryOwner: Int32Array;
  if (fs.existsSync(vf) && fs.existsSync(qf) && fs.existsSync(of)) {
    const t = performance.now();
    vectors = readF32(vf, n * DIM);
    queries = readF32(qf, q * DIM);
    queryOwner = new Int32Array(new Uint8Array(fs.readFileSync(of)).buffer);
    log(`loaded cached ${kind} ${n} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } else {
    const t = performance.now();
    const rng = new Rng(kind === 'clustered' ? 12345 : 777);
    vectors = new Float32Array(n * DIM);
    queries = new Float32Array(q * DIM);
    queryOwner = new Int32Array(q).fill(-1);
    const tmp = new Float32Array(DIM);
    if (kind === 'uniform') {
      for (let i = 0; i < n; i++) rng.unit(vectors, i * DIM);
      for (let j = 0; j < q; j++) rng.unit(queries, j * DIM);
    } else {
      const persons = Math.ceil(n / FACES_PER_PERSON);
      const centre = new Float32Array(DIM);
      const centres = new Map<number, Float32Array>();
      const chosen = new Set<number>();
      const picks: number[] = [];
      for (let j = 0; j < q; j++) { const p = rng.u32() % persons; picks.push(p); chosen.add(p); }
      for (let p = 0; p < persons; p++) {
        rng.unit(centre, 0);
        if (chosen.has(p)) centres.set(p, centre.slice());
        for (let f = 0; f < FACES_PER_PERSON; f++) {
          const i = p * FACES_PER_PERSON + f;
          if (i < n) sampleAround(rng, centre, 0, vectors, i * DIM, tmp);
        }
      }
      picks.forEach((p, j) => { sampleAround(rng, centres.get(p)!, 0, queries, j * DIM, tmp); queryOwner[j] = p; });
    }
    writeF32(vf, vectors);
    writeF32(qf, queries);
    fs.writeFileSync(of, new Uint8Array(queryOwner.buffer));
    log(`generated ${kind} ${n} in ${((performance.now() - t) / 1000).toFixed(1)} s (cached in ${path.relative(process.cwd(), RESULTS)})`);
  }
  return { n, vectors, queries, queryOwner, owner: kind === 'clustered' ? (i) => Math.floor(i / FACES_PER_PERSON) : (i) => i };
}

function writeF32(file: string, a: Float32Array) {
  const fd = fs.openSync(file + '.tmp', 'w');
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let off = 0; off < bytes.length; off += 1 << 26) fs.writeSync(fd, bytes, off, Math.min(1 << 26, bytes.length - off));
  fs.closeSync(fd);
  fs.renameSync(file + '.tmp', file);
}

function readF32(file: string, len: number): Float32Array {
  const out = new Float32Array(len);
  const bytes = new Uint8Array(out.buffer);
  const fd = fs.openSync(file, 'r');
  let off = 0;
  while (off < bytes.length) off += fs.readSync(fd, bytes, off, Math.min(1 << 26, bytes.length - off), off);
  fs.closeSync(fd);
  return out;
}
