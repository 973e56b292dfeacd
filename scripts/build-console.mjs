#!/usr/bin/env node
// Builds the web console (console/ -> console/dist) with Vite. Run by `npm ci`/`npm install`
// (postinstall) so `npm start` serves /console with no extra step; offline (everything comes
// from node_modules) and about a second. Without Vite (an install that omitted dev
// dependencies) it says so and leaves the server to answer /console with that message.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'console');
let vite;
try {
  vite = await import('vite');
} catch {
  console.log('console: vite is not installed (dev dependencies omitted?); /console will say it is not built');
  process.exit(0);
}
const t0 = performance.now();
await vite.build({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
console.log(`console: built into ${path.relative(process.cwd(), path.join(root, 'dist')) || 'console/dist'} in ${Math.round(performance.now() - t0)} ms`);
