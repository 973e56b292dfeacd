// What media library this build runs (facevault doctor prints it).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { getFFmpegInfo } from 'node-av/lib';

export function ffmpegVersion(): { binding: string; ffmpeg: string; libraries: Record<string, string> } {
  const info = getFFmpegInfo() as unknown as { version: string; libraries?: Record<string, string> };
  // node-av's exports map hides package.json; read it beside the resolved entry.
  let binding = 'unknown';
  try {
    let dir = path.dirname(createRequire(import.meta.url).resolve('node-av'));
    while (!fs.existsSync(path.join(dir, 'package.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
    binding = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch { /* stays unknown */ }
  return { binding, ffmpeg: info.version, libraries: info.libraries ?? {} };
}
