// Where ../shared/testdata lives (FACEVAULT_TESTDATA overrides); tests skip when absent.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TESTDATA = process.env.FACEVAULT_TESTDATA ?? path.resolve(here, '../../../shared/testdata');
export const hasTestdata = fs.existsSync(path.join(TESTDATA, 'faces'));
export const testdataSkipReason = `test data not found at ${TESTDATA} (set FACEVAULT_TESTDATA)`;

export function td(...parts: string[]): string {
  return path.join(TESTDATA, ...parts);
}
export function tdBase64(...parts: string[]): string {
  return fs.readFileSync(td(...parts)).toString('base64');
}
