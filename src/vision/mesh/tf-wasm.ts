// tfjs on the WASM backend, loaded from local files only. tfjs-node cannot install here
// (it downloads libtensorflow at install time), and Node's fetch has no file://, so the .wasm
// binaries and the graph models are read from node_modules with fs and handed over in memory.
// Module state is per thread: each worker initialises its own backend on first use.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfWasm from '@tensorflow/tfjs-backend-wasm';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { ModelMissingError } from '../model-set.ts';

const require = createRequire(import.meta.url);
// Loaded with require, not import: these are big CommonJS bundles, and going through the ESM
// loader (and tsx's hooks) made them take ~1 s per worker instead of ~0.2 s (cold start).
const tf = require('@tensorflow/tfjs-core') as typeof TfCore;
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm') as typeof TfWasm;
const { loadGraphModel } = require('@tensorflow/tfjs-converter') as typeof TfConverter;

// Package roots found from their resolved entry points (Human's exports map hides package.json).
function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
export const HUMAN_MODELS_DIR = path.join(packageRoot('@vladmandic/human'), 'models');
const WASM_DIR = path.join(packageRoot('@tensorflow/tfjs-backend-wasm'), 'dist') + path.sep;

let ready: Promise<void> | null = null;

export function initTfWasm(): Promise<void> {
  ready ??= (async () => {
    setWasmPaths(WASM_DIR);
    // tfjs logs a hint about tfjs-node on first use in Node; it cannot be installed here.
    tf.env().set('IS_NODE', true);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
  })();
  return ready;
}

/** Loads a tfjs graph model (model.json + weight shards) from a local directory. */
export async function loadLocalGraphModel(jsonFile: string): Promise<GraphModel> {
  await initTfWasm();
  if (!fs.existsSync(jsonFile)) throw new ModelMissingError(`model file ${jsonFile} is missing; run "npm ci"`);
  const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  const dir = path.dirname(jsonFile);
  const weightSpecs: TfCore.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
  }));
}

export { tf };
