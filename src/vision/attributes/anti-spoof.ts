// Operator-supplied anti-spoofing model (FACEVAULT_LIVENESS_MODEL): a directory with
// manifest.json and an ONNX file in MiniFASNet's interface — input [1,3,S,S] (S = 80 by default),
// raw 0..255 pixels in the channel order the manifest names (BGR by default, as MiniFASNet was
// trained with OpenCV), a square crop of the detector box scaled by `cropScale` (2.7 for
// MiniFASNetV2 "2.7_80x80"); output logits [1,3] (spoof-print, live, spoof-replay) or [1,2]
// (spoof, live). P(live) = softmax(logits)[liveIndex]. No shipped model is known to separate
// live from spoof (docs/MODELS.md), so DetectLiveFaceAccurate answers only with one of these.
import fs from 'node:fs';
import path from 'node:path';
import type { Box, Face, RgbImage } from '../types.ts';
import { createSession, run1, type Session } from '../ort.ts';
import { softmax, toPlanes } from '../sampling.ts';
import { resizeRect, scaledRect } from './faceplugin-crop.ts';

export interface AntiSpoofManifest {
  file: string;
  inputName: string;
  size: number;
  channels: 'BGR' | 'RGB';
  cropScale: number;
  liveIndex: number;
}

export class AntiSpoofConfigError extends Error {}

/** Reads and checks `<dir>/manifest.json`; every field but `file` has MiniFASNet's default. */
export function readAntiSpoofManifest(dir: string): AntiSpoofManifest & { path: string } {
  const mf = path.join(dir, 'manifest.json');
  let raw: Record<string, unknown>;
  try { raw = JSON.parse(fs.readFileSync(mf, 'utf8')); } catch (e) { throw new AntiSpoofConfigError(`${mf}: ${(e as Error).message}`); }
  const m: AntiSpoofManifest = {
    file: typeof raw.file === 'string' ? raw.file : 'model.onnx',
    inputName: typeof raw.inputName === 'string' ? raw.inputName : 'input',
    size: typeof raw.size === 'number' ? raw.size : 80,
    channels: raw.channels === 'RGB' ? 'RGB' : 'BGR',
    cropScale: typeof raw.cropScale === 'number' ? raw.cropScale : 2.7,
    liveIndex: typeof raw.liveIndex === 'number' ? raw.liveIndex : 1,
  };
  if (!Number.isInteger(m.size) || m.size < 8 || m.size > 512) throw new AntiSpoofConfigError(`${mf}: size must be an integer 8-512`);
  if (!(m.cropScale > 0 && m.cropScale <= 8)) throw new AntiSpoofConfigError(`${mf}: cropScale must be in (0, 8]`);
  if (!Number.isInteger(m.liveIndex) || m.liveIndex < 0 || m.liveIndex > 2) throw new AntiSpoofConfigError(`${mf}: liveIndex must be 0, 1 or 2`);
  const file = path.resolve(dir, m.file);
  if (!fs.existsSync(file)) throw new AntiSpoofConfigError(`${mf}: model file ${m.file} is missing`);
  return { ...m, path: file };
}

export class AntiSpoofModel {
  private session: Session | null = null;
  private constructor(private readonly m: AntiSpoofManifest & { path: string }) {}

  static fromDir(dir: string): AntiSpoofModel {
    return new AntiSpoofModel(readAntiSpoofManifest(dir));
  }

  async prepare(): Promise<void> {
    this.session ??= await createSession(this.m.path);
  }

  /** P(live) of the face in `box`. */
  async score(img: RgbImage, box: Box): Promise<number> {
    await this.prepare();
    const { size, channels, cropScale, liveIndex, inputName } = this.m;
    const hwc = resizeRect(img, scaledRect(img, box, cropScale), size);
    const planes = toPlanes(hwc, size * size, (v) => v, channels === 'BGR' ? [2, 1, 0] : [0, 1, 2]);
    const out = await run1(this.session!, inputName, planes, [1, 3, size, size]);
    const logits = Object.values(out)[0].data as Float32Array;
    if (logits.length !== 2 && logits.length !== 3) throw new AntiSpoofConfigError(`liveness model output has ${logits.length} values; expected 2 or 3 logits`);
    if (liveIndex >= logits.length) throw new AntiSpoofConfigError(`liveness model: liveIndex ${liveIndex} is past its ${logits.length} outputs`);
    return softmax(logits)[liveIndex];
  }

  async run(img: RgbImage, face: Face): Promise<void> {
    (face.attributes ??= {}).antiSpoofLive = await this.score(img, face.box);
  }
}
