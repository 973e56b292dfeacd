// Model sets: a manifest naming ONNX files, their hashes and preprocessing. The default set
// ("3.0", Tencent's FaceModelVersion) is fetched at install time by scripts/fetch-models.mjs;
// operators add their own sets as directories holding a manifest.json (FACEVAULT_MODEL_SETS).
// Nothing here downloads: a missing file is an installation problem and says so.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_MODEL_VERSION = '3.0';

export interface ModelInputSpec {
  name: string;
  shape: number[];
  layout: 'NCHW' | 'NHWC';
  channels?: 'RGB' | 'BGR' | 'GRAY';
  mean?: number;
  std?: number;
}

export interface ModelSpec {
  file: string;
  sha256: string;
  input: ModelInputSpec;
  outputs?: Record<string, string>;
  [extra: string]: unknown;
}

export interface ModelSet {
  version: string;
  description: string;
  dir: string; // absolute directory holding the files
  models: Record<string, ModelSpec>; // by role: detect, landmark68, embedding, liveness, age, ...
  /** Absolute path of a role's file; throws a ModelMissingError when the role is absent. */
  path(role: string): string;
  has(role: string): boolean;
}

export class ModelMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelMissingError';
  }
}

const REQUIRED_ROLES = ['detect', 'landmark68', 'embedding'];

interface ManifestJson {
  version: string;
  description?: string;
  source?: { cacheDir: string };
  models: Record<string, ModelSpec>;
}

function parseManifest(file: string, dir: string | null): ModelSet {
  let json: ManifestJson;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelMissingError(`model manifest ${file} cannot be read: ${(e as Error).message}`);
  }
  if (typeof json.version !== 'string' || !json.version) throw new ModelMissingError(`${file}: "version" must be a non-empty string`);
  if (!json.models || typeof json.models !== 'object') throw new ModelMissingError(`${file}: "models" must be an object`);
  for (const role of REQUIRED_ROLES) {
    if (!json.models[role]) throw new ModelMissingError(`${file}: the model set must define the "${role}" model`);
  }
  for (const [role, m] of Object.entries(json.models)) {
    if (typeof m.file !== 'string' || !/^[0-9a-f]{64}$/.test(String(m.sha256))) throw new ModelMissingError(`${file}: models.${role} needs "file" and a hex "sha256"`);
    if (!m.input || !Array.isArray(m.input.shape)) throw new ModelMissingError(`${file}: models.${role}.input.shape is required`);
    if (path.isAbsolute(m.file) || m.file.split(/[\\/]/).includes('..')) throw new ModelMissingError(`${file}: models.${role}.file must be a plain relative name`);
  }
  const base = dir ?? path.join(REPO_ROOT, json.source?.cacheDir ?? '');
  return {
    version: json.version,
    description: json.description ?? '',
    dir: base,
    models: json.models,
    has: (role) => role in json.models,
    path(role) {
      const m = json.models[role];
      if (!m) throw new ModelMissingError(`model set ${json.version} has no "${role}" model`);
      return path.join(base, m.file);
    },
  };
}

/** The sets shipped in models/manifest-*.json plus operator directories. Later ones with the
 *  same version replace earlier ones, so an operator can override nothing but add sets. */
export function loadModelSets(extraDirs: string[] = []): Map<string, ModelSet> {
  const sets = new Map<string, ModelSet>();
  const shipped = path.join(REPO_ROOT, 'models');
  for (const f of fs.readdirSync(shipped).filter((n) => /^manifest-.*\.json$/.test(n)).sort()) {
    const s = parseManifest(path.join(shipped, f), null);
    sets.set(s.version, s);
  }
  for (const d of extraDirs) {
    const dir = path.resolve(d);
    const s = parseManifest(path.join(dir, 'manifest.json'), dir);
    if (sets.has(s.version)) throw new ModelMissingError(`${dir}/manifest.json: version ${s.version} is already defined by a built-in set; choose another version name`);
    sets.set(s.version, s);
  }
  return sets;
}

export function modelSetDirsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const v = env.FACEVAULT_MODEL_SETS;
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** Checks that every file of the set exists; with `hash`, also its sha256 (slower, ~0.2 s). */
export function verifyModelSet(set: ModelSet, opts: { hash?: boolean; roles?: string[] } = {}): void {
  for (const role of opts.roles ?? Object.keys(set.models)) {
    const m = set.models[role];
    if (!m) throw new ModelMissingError(`model set ${set.version} has no "${role}" model`);
    const p = path.join(set.dir, m.file);
    if (!fs.existsSync(p)) {
      throw new ModelMissingError(`model file ${p} (${role}, set ${set.version}) is missing; run "npm ci" (or "node scripts/fetch-models.mjs") to install the models`);
    }
    if (opts.hash) {
      const h = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      if (h !== m.sha256) throw new ModelMissingError(`model file ${p} has sha256 ${h}, the manifest says ${m.sha256}; run "npm ci" to reinstall`);
    }
  }
}
