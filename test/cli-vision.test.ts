// `facevault analyze` / `facevault compare` through the real bin script (offline, JSON out).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';
import { GROUP_FACE_COUNTS } from './helpers/face-counts.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/facevault.mjs');
// From another directory: the command must not depend on the cwd.
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: os.tmpdir() });

describe.skipIf(!hasTestdata)('vision CLI', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  it('analyze prints faces as JSON', () => {
    const r = run('analyze', td('faces/groups/bbt5.jpg'));
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.faces).toHaveLength(GROUP_FACE_COUNTS['bbt5.jpg']);
    expect(out.faces[0].kps).toHaveLength(5);
    expect(out.faces[0].landmarks68).toHaveLength(68);
  });
  it('compare prints a Tencent score; bad input fails with a message', () => {
    const same = JSON.parse(run('compare', td('faces/identities/obama/obama.jpg'), td('faces/identities/obama/obama1.jpg')).stdout);
    const diff = JSON.parse(run('compare', td('faces/identities/obama/obama.jpg'), td('faces/identities/penny/penny1.png')).stdout);
    expect(same.score).toBeGreaterThan(50);
    expect(diff.score).toBeLessThan(40);
    const bad = run('compare', td('faces/edge/white.png'), td('faces/identities/obama/obama.jpg'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no face found/);
    expect(run('analyze').status).toBe(2);
  });
});
