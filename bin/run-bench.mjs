#!/usr/bin/env node
// npm run bench -- <name> [args]: runs bench/<name>.ts through tsx (no build step).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);
const available = fs.readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.ts') && f !== 'lib.ts').map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}`);
  process.exit(2);
}
const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs');
const r = spawnSync(process.execPath, [tsx, path.join(root, 'bench', `${name}.ts`), ...rest], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
