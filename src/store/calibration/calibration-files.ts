// Operator score calibrations, versioned on disk: <dataDir>/calibration/<model version>/
//   v0001.json, v0002.json, …   each fit as written by `facevault calibrate` (never rewritten)
//   active.json                 { "stack": [1, 2, …] }: the last entry is in force; revert pops it
// No entry (or no file) means the shipped calibration. Every process reads active.json at start,
// so one file decides what every server and worker uses. Writes go to a temporary file and are
// renamed into place, so a reader never sees half a file.
import fs from 'node:fs';
import path from 'node:path';

export interface StoredCalibration {
  version: number;
  file: string;
  body: unknown;
}

export class CalibrationFiles {
  readonly dir: string;
  constructor(dataDir: string, modelVersion: string) {
    if (!/^[A-Za-z0-9._-]+$/.test(modelVersion)) throw new Error(`calibration: bad model version "${modelVersion}"`);
    this.dir = path.join(dataDir, 'calibration', modelVersion);
  }

  private file(v: number): string {
    return path.join(this.dir, `v${String(v).padStart(4, '0')}.json`);
  }

  private stack(): number[] {
    const f = path.join(this.dir, 'active.json');
    if (!fs.existsSync(f)) return [];
    const s = (JSON.parse(fs.readFileSync(f, 'utf8')) as { stack?: unknown }).stack;
    if (!Array.isArray(s) || !s.every((v) => Number.isInteger(v) && v > 0)) throw new Error(`${f}: "stack" must be a list of version numbers`);
    return s as number[];
  }

  private writeAtomic(file: string, text: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  private setStack(stack: number[]): void {
    this.writeAtomic(path.join(this.dir, 'active.json'), JSON.stringify({ stack }) + '\n');
  }

  /** Every stored version number, oldest first. */
  versions(): number[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).map((f) => /^v(\d{4,})\.json$/.exec(f)).filter((m) => m).map((m) => Number(m![1])).sort((a, b) => a - b);
  }

  /** Stores a new version and makes it the active one; returns its number. */
  save(body: unknown): number {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const v = Math.max(0, ...this.versions()) + 1;
    this.writeAtomic(this.file(v), JSON.stringify(body, null, 2) + '\n');
    this.setStack([...this.stack(), v]);
    return v;
  }

  /** The calibration in force, or null for the shipped one. */
  active(): StoredCalibration | null {
    const s = this.stack();
    if (!s.length) return null;
    const v = s[s.length - 1];
    const file = this.file(v);
    if (!fs.existsSync(file)) throw new Error(`${file}: the active calibration file is missing`);
    return { version: v, file, body: JSON.parse(fs.readFileSync(file, 'utf8')) };
  }

  /** Goes back to the version active before the current one (null = shipped). The file stays. */
  revert(): { from: number; to: number | null } | null {
    const s = this.stack();
    if (!s.length) return null;
    const from = s.pop()!;
    this.setStack(s);
    return { from, to: s.length ? s[s.length - 1] : null };
  }
}
