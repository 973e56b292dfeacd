import fs from 'node:fs';
import { expect, it } from 'vitest';
import { renderReadme } from '../scripts/gen-config-table.ts';

it('README opens with the two commands and its configuration table matches src/config.ts (npx tsx scripts/gen-config-table.ts)', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  expect(readme.split('\n').slice(0, 12).join('\n')).toContain('npm ci && npm start');
  expect(readme.split('\n').slice(0, 12).join('\n')).toContain('npm test');
  expect(renderReadme(readme)).toBe(readme);
});
