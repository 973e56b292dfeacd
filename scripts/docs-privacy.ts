// `npm run docs:privacy`: rewrites the generated retention table in docs/PRIVACY.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withRetentionTable } from '../src/services/privacy/privacy-doc.ts';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/PRIVACY.md');
const before = fs.readFileSync(file, 'utf8');
const after = withRetentionTable(before);
if (after !== before) fs.writeFileSync(file, after);
console.log(after === before ? 'docs/PRIVACY.md: retention table already up to date' : 'docs/PRIVACY.md: retention table updated');
