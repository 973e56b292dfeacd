// Three `facevault serve` processes as one service (issue 15 item 1), started from
// deploy/systemd/facevault-serve@.service (test/helpers/cluster.ts) on PostgreSQL + S3 (s3rver)
// + Redis: enrolments and deletions acknowledged by one node hold on the others' next search;
// an activity's QPS limit and the console's failed sign-in limit are counted across the nodes; the retention sweep runs once per
// period, not once per node; a deletion request left running by a dead process is finished by
// exactly one other node; a model upgrade job started on a node that is killed -9 finishes on
// another.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type Cluster, type Node } from './helpers/cluster.ts';
import { errorCode, tempDir } from './helpers/server.ts';
import { PG_URL, REDIS_URL, pgSkipReason, redisSkipReason } from './helpers/backends.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';
import { loadModelSets } from '../src/vision/model-set.ts';
import { Keyring } from '../src/store/keys/keyring.ts';
import { parseMasterKey } from '../src/domain/master-key.ts';

const skip = !PG_URL ? pgSkipReason : !REDIS_URL ? redisSkipReason : !hasTestdata ? testdataSkipReason : '';
const img = (who: string, f: string) => fs.readFileSync(td('faces', 'identities', who, f)).toString('base64');

/** The default set's ONNX files registered as version "3.1" (as test/library-model-upgrade.test.ts). */
function secondModelSet(): string {
  const base = loadModelSets().get('3.0')!;
  const dir = tempDir('facevault-set31-');
  for (const m of Object.values(base.models)) fs.symlinkSync(path.join(base.dir, m.file), path.join(dir, m.file));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '3.1', description: 'test: the 3.0 files under another name', models: base.models }));
  return dir;
}

const SWEEP_SECONDS = 10; // the shortest interval the configuration allows
const DRAFT_QPS = 1;

describe.skipIf(!!skip)(`three serve nodes as one service${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let c: Cluster;
  let A: Node, B: Node, C: Node;
  let setDir = '';
  const t0 = Date.now();
  beforeAll(async () => {
    setDir = secondModelSet();
    c = await startCluster({
      nodes: 3,
      env: { FACEVAULT_MODEL_SETS: setDir, FACEVAULT_RETENTION_SWEEP_SECONDS: String(SWEEP_SECONDS), FACEVAULT_FUSION_DRAFT_QPS: String(DRAFT_QPS), FACEVAULT_JOB_LEASE_SECONDS: '3' },
    });
    [A, B, C] = c.nodes as [Node, Node, Node];
    console.log(`cluster of 3 ready in ${Date.now() - t0} ms`);
  }, 300_000);
  afterAll(async () => {
    await c?.stop();
    if (setDir) fs.rmSync(setDir, { recursive: true, force: true });
  });

  it('every node comes up from the unit file, on PostgreSQL, S3 and Redis, and reports each in /readyz', async () => {
    for (const n of [A, B, C]) {
      const r = await n.readyz();
      expect(r).toEqual({ status: 200, checks: { database: 'ok', objectStore: 'ok', keyStore: 'ok', redis: 'ok', models: 'ok', workers: 'ok', index: 'ok' } });
      expect(n.lines.join('\n')).toMatch(/database PostgreSQL, objects s3:\/\/facevault-objects/);
    }
    // One account, created by whichever node won (the others found it: none exited).
    const apps = await c.pg.query('select count(*)::int as n from apps');
    expect(apps.rows[0].n).toBe(1);
    // The video worker unit starts too (pg-boss on the same database) and stops on SIGTERM.
    const w = await c.startWorker('1');
    await waitFor('the worker taking jobs', async () => {
      if (!w.alive()) throw new Error(`worker exited: ${w.lines.slice(-10).join('\n')}`);
      return w.lines.some((l) => /facevault worker: taking video jobs/.test(l));
    }, 120_000, 300);
    expect(await w.stop()).toBe(0);
  }, 180_000);

  it('an enrolment acknowledged by A is found by B\'s next search; a deletion acknowledged by A is never returned by B or C after', async () => {
    await A.iai().CreateGroup({ GroupId: 'g', GroupName: 'G' });
    const who = [['obama', 'obama.jpg', 'obama2.jpg'], ['biden', 'biden.jpg', 'biden2.jpg'], ['amy', 'amy1.png', 'amy3.png']] as const;
    for (const [p, enrol, probe] of who) {
      await A.iai().CreatePerson({ GroupId: 'g', PersonId: `p-${p}`, PersonName: p, Image: img(p, enrol) });
      // No wait, no retry: the very next search on another node.
      const s = await B.iai().SearchFaces({ GroupIds: ['g'], Image: img(p, probe), MaxPersonNum: 1 });
      expect(s.Results[0].Candidates[0].PersonId).toBe(`p-${p}`);
    }
    await A.iai().DeletePerson({ PersonId: 'p-obama' });
    for (const n of [B, C, B]) {
      const s = await n.iai().SearchFaces({ GroupIds: ['g'], Image: img('obama', 'obama2.jpg'), MaxPersonNum: 5 });
      expect(s.Results[0].Candidates.map((x: any) => x.PersonId)).not.toContain('p-obama');
      expect(await errorCode(n.iai().GetPersonBaseInfo({ PersonId: 'p-obama' }))).toBe('InvalidParameterValue.PersonIdNotExist');
    }
  }, 180_000);

  it('an activity\'s QPS limit is one bucket across the nodes (Redis)', async () => {
    const draft = (await A.common('facefusion').request('CreateActivity', { ActivityName: 'draft' })).ActivityId;
    // No such material: a call the limit admits fails cheaply with FuseMaterialNotExist, one it refuses with RequestLimitExceeded.
    const call = { ProjectId: draft, ModelId: 'mt_1', RspImgType: 'base64', MergeInfos: [{ Image: 'eA==' }] };
    const nodes = [A, B, C];
    const start = performance.now();
    const codes = await Promise.all(Array.from({ length: 30 }, (_, i) => errorCode(nodes[i % 3]!.facefusion().FuseFace(call))));
    const spanS = (performance.now() - start) / 1000;
    const admitted = codes.filter((x) => x === 'FailedOperation.FuseMaterialNotExist').length;
    expect(codes.filter((x) => x !== 'FailedOperation.FuseMaterialNotExist' && x !== 'RequestLimitExceeded')).toEqual([]);
    console.log(`30 FuseFace calls over 3 nodes in ${spanS.toFixed(2)} s: ${admitted} admitted at ${DRAFT_QPS}/s`);
    // One token bucket (burst DRAFT_QPS, refilled at DRAFT_QPS/s) admits at most this many in the
    // span; a bucket per node would admit at least 3 × that (each node its own burst and refill).
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(Math.floor(DRAFT_QPS * (1 + spanS)));
  }, 120_000);

  it('the console\'s failed sign-in limit is counted across the nodes (Redis)', async () => {
    const codes: string[] = [];
    // 12 wrong keys from one address, round robin: 4 per node, 10 allowed per address and window.
    for (let i = 0; i < 12; i++) {
      const n = [A, B, C][i % 3]!;
      const r = await fetch(`${n.url}/console/api/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ SecretId: c.creds.SecretId, SecretKey: 'x'.repeat(32) }) });
      codes.push(((await r.json()) as any).Response.Error.Code);
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('AuthFailure.SecretIdNotFound'));
    expect(codes.slice(10)).toEqual(['RequestLimitExceeded', 'RequestLimitExceeded']);
    // The right key is refused too while the address is limited, on every node.
    const ok = await fetch(`${B.url}/console/api/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.creds) });
    expect(((await ok.json()) as any).Response?.Error?.Code).toBe('RequestLimitExceeded');
  }, 60_000);

  it('the retention sweep runs once per period across the three nodes, though each node decides every period', async () => {
    const ranIn = () => c.nodes.map((n) => n.lines.flatMap((l) => { try { const j = JSON.parse(l); return j.msg === 'retention sweep ran' ? [j.period as number] : []; } catch { return []; } }));
    const ticksOf = async (n: Node) => Number(/^facevault_retention_sweep_ticks (\d+)/m.exec(await n.metrics())?.[1] ?? -1);
    // Every node has decided at least twice, and at least three periods were swept.
    await waitFor('three sweep periods, two decisions per node', async () => ranIn().flat().length >= 3 && (await Promise.all([A, B, C].map(ticksOf))).every((t) => t >= 2), 60_000, 1000);
    const perNode = ranIn();
    const all = perNode.flat();
    console.log(`sweeps per node: ${perNode.map((p) => p.length).join(', ')}; periods: ${[...new Set(all)].sort().join(', ')}`);
    expect(new Set(all).size).toBe(all.length); // no period swept twice
    const ticks = await Promise.all([A, B, C].map(ticksOf));
    const runs = await Promise.all([A, B, C].map(async (n) => Number(/^facevault_retention_sweeps (\d+)/m.exec(await n.metrics())?.[1] ?? -1)));
    console.log(`scheduler ticks per node ${ticks.join(', ')}; runs per node ${runs.join(', ')}`);
    // Every node took part in the election at least twice; the runs are the periods, not the ticks.
    for (const t of ticks) expect(t).toBeGreaterThanOrEqual(2);
    expect(runs.reduce((a, b) => a + b, 0)).toBeLessThan(ticks.reduce((a, b) => a + b, 0));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(new Set(all).size);
  }, 120_000);

  it('a deletion request left running by a dead process is finished by exactly one node', async () => {
    await A.iai().CreatePerson({ GroupId: 'g', PersonId: 'p-howard', PersonName: 'howard', Image: img('howard', 'howard1.png') });
    const appId = Number((await c.pg.query('select app_id from apps limit 1')).rows[0].app_id);
    // The row as a process killed right after writing it leaves it: running, its lease run out.
    const keyring = new Keyring(parseMasterKey(c.env.FACEVAULT_MASTER_KEY!));
    const requestId = crypto.randomUUID();
    const subject = { kind: 'person', personId: 'p-howard' };
    const digest = crypto.createHmac('sha256', keyring.deriveKey('deletion-subject')).update(`${appId}\nperson\np-howard`).digest('hex');
    await c.pg.query(
      `insert into deletion_requests (request_id, app_id, scope, subject_digest, subject_sealed, status, requested_by, created_at, completed_at, attempts, receipt, digest, data_class, expires_at, lease_owner, lease_until)
       values ($1, $2, 'person', $3, $4, 'running', 'test', $5, null, 0, null, null, 'receipt', null, 'a-dead-process', $6)`,
      [requestId, appId, digest, keyring.sealSecret(JSON.stringify(subject), `deletion:${requestId}`), Date.now(), Date.now() - 1],
    );
    const row = await waitFor('the request done', async () => {
      const r = (await c.pg.query('select status, attempts, receipt from deletion_requests where request_id = $1', [requestId])).rows[0];
      return r.status === 'done' ? r : null;
    }, 30_000, 300);
    expect(row.attempts).toBe(1); // one run, not one per node
    expect(JSON.parse(row.receipt).Deleted.Persons).toBe(1);
    const audits = async () => (await c.pg.query(`select count(*)::int as n from audit_log where action = 'deletion.completed' and target = $1`, [requestId])).rows[0].n as number;
    await waitFor('the completion audited', async () => (await audits()) >= 1, 10_000, 200);
    // Two more takeover rounds of every node (every half lease): nobody runs it again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await audits()).toBe(1);
    expect((await c.pg.query('select attempts from deletion_requests where request_id = $1', [requestId])).rows[0].attempts).toBe(1);
    for (const n of [A, B, C]) expect(await errorCode(n.iai().GetPersonBaseInfo({ PersonId: 'p-howard' }))).toBe('InvalidParameterValue.PersonIdNotExist');
  }, 120_000);

  it('an upgrade job started on A survives A\'s kill -9 and finishes on another node', async () => {
    const iai = A.iai();
    await iai.CreateGroup({ GroupId: 'up', GroupName: 'Up', KeepEnrolmentImages: 1 });
    const people: [string, string][] = [['leonard', 'leonard1.png'], ['penny', 'penny1.png'], ['raj', 'raj1.png'], ['sheldon', 'sheldon1.png'], ['stuart', 'stuart1.png'], ['bernadette', 'bernadette1.png'], ['howard', 'howard2.png'], ['amy', 'amy2.png']];
    for (const [p, f] of people) await iai.CreatePerson({ GroupId: 'up', PersonId: `u-${p}`, PersonName: p, Image: img(p, f) });
    const { JobId } = await iai.UpgradeGroupFaceModelVersion({ GroupId: 'up', FaceModelVersion: '3.1' });
    const alt = async () => Number((await c.pg.query(`select count(*)::int as n from face_alt_features where model_version = '3.1' and face_id <> ''`)).rows[0].n);
    // Killed once A has re-embedded some faces but not all.
    await waitFor('A re-embedding', async () => (await alt()) >= 1, 60_000, 50);
    const job0 = (await c.pg.query('select status, lease_owner from face_upgrade_jobs where job_id = $1', [JobId])).rows[0];
    await A.kill9();
    const doneBeforeKill = await alt();
    console.log(`A killed with ${doneBeforeKill}/${people.length} faces re-embedded (job status ${job0.status})`);
    expect(job0.status).toBe(0);
    const owner0 = job0.lease_owner;
    const end = await waitFor('the job done on another node', async () => {
      const r = await B.iai().GetUpgradeGroupFaceModelVersionResult({ JobId });
      return r.Status === 1 ? r : null;
    }, 90_000, 500);
    expect(end).toMatchObject({ Status: 1, Progress: 100, FromFaceModelVersion: '3.0', ToFaceModelVersion: '3.1' });
    // A node other than A took the lease (A's owner id is not the one that finished: it is dead).
    expect(A.alive()).toBe(false);
    const took = [B, C].flatMap((n) => n.lines).filter((l) => /model upgrade job .* failed/.test(l));
    expect(took).toEqual([]);
    expect(owner0).toBeTruthy();
    // Every face serves its 3.1 feature, the group is on 3.1, and search works on the survivors.
    expect((await B.iai().GetGroupInfo({ GroupId: 'up' })).FaceModelVersion).toBe('3.1');
    const s = await C.iai().SearchFaces({ GroupIds: ['up'], Image: img('penny', 'penny2.png'), MaxPersonNum: 1 });
    expect(s.Results[0].Candidates[0].PersonId).toBe('u-penny');
    const faces = await c.pg.query(`select count(*)::int as n from faces f join group_persons gp on gp.person_id = f.person_id and gp.app_id = f.app_id where gp.group_id = 'up'`);
    expect(faces.rows[0].n).toBe(people.length);
  }, 240_000);
});
