#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: one code path for tests and production,
// no build step to forget. See docs/ARCHITECTURE.md.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';
registerHooks('./cjs-entry-hooks.mjs', import.meta.url); // faster start: see that file
register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
