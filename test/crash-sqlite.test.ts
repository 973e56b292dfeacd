// kill -9 on the embedded default (SQLite + ./data): every write the server acknowledged is there
// after a restart, and nothing half-written is visible. SQLite now runs synchronous=NORMAL with
// the WAL flushed on the thread pool before a write is acknowledged (store/db/sqlite-durable.ts);
// a process kill must lose nothing of what was acknowledged either way, and this checks it from
// outside: a real `facevault serve` child, the official SDK, SIGKILL in the middle of a write load.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { tempDir } from './helpers/server.ts';
import { hasTestdata, tdBase64 } from './helpers/testdata.ts';

const require = createRequire(import.meta.url);
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');
const BIN = path.resolve('bin/facevault.mjs');
const SECRET_ID = 'AKIDcrashtest00000001', SECRET_KEY = 'crash-test-secret-key-000001';

function startServe(dir: string) {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, FACEVAULT_PORT: '0', FACEVAULT_DATA_DIR: dir, FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_BOOTSTRAP_SECRET_ID: SECRET_ID, FACEVAULT_BOOTSTRAP_SECRET_KEY: SECRET_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => { const m = /listening on (http:\/\/[^\s]+)/.exec(out); if (m) { clearInterval(timer); resolve(m[1]); } }, 50);
    child.on('exit', (code) => { clearInterval(timer); reject(new Error(`serve exited ${code}: ${out}`)); });
  });
  return { child, url, exited };
}

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('not ready within 240 s');
}

const client = (url: string) => new iai.v20200303.Client({
  credential: { secretId: SECRET_ID, secretKey: SECRET_KEY }, region: loadConfig({}, 1).region,
  profile: { httpProfile: { endpoint: url.replace('http://', ''), protocol: 'http://', reqTimeout: 60 } },
});

describe('kill -9 on SQLite', () => {
  it('keeps every acknowledged write, and no person without its face', async () => {
    const dir = tempDir();
    const first = startServe(dir);
    const url1 = await first.url;
    await ready(url1);
    const c1 = client(url1);
    await c1.CreateGroup({ GroupId: 'crash-persons', GroupName: 'persons' });
    const acked: string[] = [];
    const ackedPersons: string[] = [];
    let stop = false;
    // Four writers of groups (one commit each) and, with test data, one of persons (features,
    // a face row and the index in one call), until the kill.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const id = `crash-${w}-${i}`;
        try { await c1.CreateGroup({ GroupId: id, GroupName: id }); acked.push(id); } catch { return; }
      }
    });
    const image = hasTestdata ? tdBase64('faces', 'identities', 'penny', 'penny1.png') : null;
    const personWriter = (async () => {
      for (let i = 0; image && !stop; i++) {
        const id = `crash-p-${i}`;
        try { await c1.CreatePerson({ GroupId: 'crash-persons', PersonId: id, PersonName: id, Image: image, QualityControl: 0 }); ackedPersons.push(id); } catch { return; }
      }
    })();
    // Kill in the middle of the load: after a number of acknowledged writes, not after a time.
    const deadline = Date.now() + 120_000;
    while ((acked.length < 150 || (image && ackedPersons.length < 3)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    stop = true;
    await first.exited;
    await Promise.all([...writers, personWriter]);
    expect(acked.length).toBeGreaterThanOrEqual(150);
    if (image) expect(ackedPersons.length).toBeGreaterThanOrEqual(3);
    console.log(`kill -9 after ${acked.length} acknowledged groups and ${ackedPersons.length} persons`);

    const second = startServe(dir);
    try {
      const url2 = await second.url;
      await ready(url2);
      const c2 = client(url2);
      const groups = new Set<string>();
      for (let offset = 0; ; offset += 1000) {
        const page = await c2.GetGroupList({ Offset: offset, Limit: 1000 });
        for (const g of page.GroupInfos) groups.add(g.GroupId);
        if (page.GroupInfos.length < 1000) break;
      }
      const lost = acked.filter((g) => !groups.has(g));
      expect(lost, `${lost.length} of ${acked.length} acknowledged groups lost`).toEqual([]);
      // Every person that exists has its face (acknowledged or caught mid-write and rolled back).
      const persons = await c2.GetPersonList({ GroupId: 'crash-persons', Offset: 0, Limit: 1000 });
      const present = new Map<string, number>(persons.PersonInfos.map((p: any) => [p.PersonId, p.FaceIds.length]));
      for (const p of ackedPersons) expect(present.get(p), `acknowledged person ${p}`).toBe(1);
      for (const [p, faces] of present) expect(faces, `person ${p} has no face`).toBe(1);
      if (ackedPersons.length) {
        const found = await c2.SearchFaces({ GroupIds: ['crash-persons'], Image: image, MaxPersonNum: 1 });
        expect(ackedPersons).toContain(found.Results[0].Candidates[0].PersonId);
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 600_000);
});
