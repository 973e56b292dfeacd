// Regenerates the layer picture in docs/ARCHITECTURE.md from the real imports, with the same
// tool and rules that CI checks (dependency-cruiser, .dependency-cruiser.cjs): one node per
// top-level folder of src/, one edge per "some file here imports some file there".
//   node scripts/docs-layers.mjs          rewrite the block between the markers
//   node scripts/docs-layers.mjs --check  exit 1 if the committed picture is stale
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const doc = path.join(root, 'docs/ARCHITECTURE.md');
const BEGIN = '<!-- layers:begin (npm run docs:layers) -->';
const END = '<!-- layers:end -->';

export function layersMermaid() {
  const bin = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const out = execFileSync(process.execPath, [bin, 'src', '-c', '.dependency-cruiser.cjs', '-T', 'mermaid', '--include-only', '^src', '--collapse', '^src/[^/]+'], { cwd: root, encoding: 'utf8' });
  // Name nodes by folder rather than dependency-cruiser's generated ids, so the picture reads
  // in the Markdown source too and does not change when a folder is added.
  const ids = new Map();
  for (const m of out.matchAll(/^(\w+)\["([^"]+)"\]$/gm)) if (m[2] !== 'src') ids.set(m[1], m[2].replace(/\.ts$/, '_ts'));
  const edges = [...out.matchAll(/^(\w+)-->(\w+)$/gm)].map((m) => `  ${ids.get(m[1])} --> ${ids.get(m[2])}`).sort();
  return ['```mermaid', 'flowchart TD', ...edges, '```'].join('\n');
}

const text = fs.readFileSync(doc, 'utf8');
const [head, rest] = text.split(BEGIN);
if (rest === undefined) throw new Error(`docs/ARCHITECTURE.md has no ${BEGIN} marker`);
const tail = rest.slice(rest.indexOf(END));
const next = `${head}${BEGIN}\n${layersMermaid()}\n${tail}`;
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('docs/ARCHITECTURE.md: the layer picture is stale; run npm run docs:layers');
    process.exit(1);
  }
} else fs.writeFileSync(doc, next);
