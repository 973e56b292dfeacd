// Writes the configuration table into README.md from src/config.ts's CONFIG_VARS, so the
// documented variables are exactly the parsed ones. test/readme.test.ts fails when stale.
import fs from 'node:fs';
import { CONFIG_VARS } from '../src/config.ts';

export function configTable(): string {
  const rows = CONFIG_VARS.map((v) => `| \`${v.name}\` | ${v.default.replace(/\|/g, '\\|')} | ${v.description.replace(/\|/g, '\\|')} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function renderReadme(readme: string): string {
  return readme.replace(/(<!-- config-table:start -->)[\s\S]*?(<!-- config-table:end -->)/, `$1\n${configTable()}\n$2`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  fs.writeFileSync('README.md', renderReadme(fs.readFileSync('README.md', 'utf8')));
  console.log('README.md configuration table updated');
}
