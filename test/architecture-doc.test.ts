// docs/ARCHITECTURE.md's layer picture is generated from the imports; it must match them.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the layer picture in docs/ARCHITECTURE.md matches the imports (npm run docs:layers)', () => {
  const r = spawnSync(process.execPath, ['scripts/docs-layers.mjs', '--check'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 60_000);
