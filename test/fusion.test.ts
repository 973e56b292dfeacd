// Face fusion through the official SDK: activities/materials (CommonClient, our extensions),
// DescribeMaterialList, FuseFace/FuseFaceUltra results, marks, result links, errors, limits,
// tenant isolation, and complete deletion.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td, tdBase64 } from './helpers/testdata.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { FusionPool, independentGroups } from '../src/vision/fusion/pool.ts';
import { fuseIntoTemplate } from '../src/vision/fusion/fuse.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';

let t: TestServer;
// Real time plus an offset we can move: result links are checked against this clock; the
// signature check of SDK calls is too, so the offset goes back to 0 before the next call.
const clock = { offset: 0, now() { return Date.now() + this.offset; } };
// Loopback image servers for Url inputs: `files` is allow-listed, `stranger` is not.
let files: http.Server, stranger: http.Server, filesUrl = '', strangerUrl = '';
const serveTestdata = () => http.createServer((req, res) => {
  const map: Record<string, string[]> = { '/template.jpg': TEMPLATE, '/user.jpg': USER, '/logo.png': ['faces', 'edge', 'white.png'] };
  const parts = map[req.url ?? ''];
  if (!parts) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': parts[parts.length - 1].endsWith('.png') ? 'image/png' : 'image/jpeg' });
  res.end(fs.readFileSync(td(...parts)));
});
const listen = (s: http.Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
let other: { SecretId: string; SecretKey: string };
let activityId = '';
let materialId = '';
const TEMPLATE = ['faces', 'identities', 'obama', 'obama-720p.jpg'];
const USER = ['faces', 'identities', 'biden', 'biden2.jpg'];

async function smallJpeg(parts: string[], width: number): Promise<string> {
  return (await sharp(fs.readFileSync(td(...parts))).resize({ width }).jpeg().toBuffer()).toString('base64');
}

describe.skipIf(!hasTestdata)(`face fusion${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  beforeAll(async () => {
    files = serveTestdata(); stranger = serveTestdata();
    filesUrl = await listen(files); strangerUrl = await listen(stranger);
    t = await startTestServer({ FACEVAULT_FUSION_THREADS: '1', FACEVAULT_IMAGE_TASK_TIMEOUT_MS: '180000', FACEVAULT_URL_ALLOWLIST: filesUrl.replace('http://', '') }, { clock });
    other = await t.run.app.accounts.createAccount('other');
    const ff = t.common('facefusion');
    const a = await ff.request('CreateActivity', { ActivityName: 'summer', Status: 'PUBLISHED' });
    activityId = a.ActivityId;
    const m = await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'obama', Image: tdBase64(...TEMPLATE) });
    materialId = m.MaterialId;
  }, 240_000);
  afterAll(async () => { await t?.stop(); files?.close(); stranger?.close(); });

  it('creates, lists and modifies activities with Tencent-style ids', async () => {
    expect(activityId).toMatch(/^at_\d{19}$/);
    const ff = t.common('facefusion');
    const l = await ff.request('DescribeActivities', {});
    expect(l.Count).toBe(1);
    expect(l.Activities[0]).toMatchObject({ ActivityId: activityId, ActivityName: 'summer', Status: 'PUBLISHED' });
    const m = await ff.request('ModifyActivity', { ActivityId: activityId, ActivityName: 'summer2' });
    expect(m.Activity.ActivityName).toBe('summer2');
    expect(await errorCode(ff.request('ModifyActivity', { ActivityId: activityId, Status: 'LIVE' }))).toBe('InvalidParameterValue');
  });

  it('DescribeMaterialList answers in Tencent\'s shape', async () => {
    const r = await t.facefusion().DescribeMaterialList({ ActivityId: activityId, Limit: 20, Offset: 0 });
    expect(r.Count).toBe(1);
    const m = r.MaterialInfos[0];
    expect(m.MaterialId).toBe(materialId);
    expect(m.MaterialId).toMatch(/^mt_\d{19}$/);
    expect(m.MaterialStatus).toBe(21);
    expect(m.MaterialName).toBe('obama');
    expect(m.CreateTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(m.MaterialFaceList).toHaveLength(1);
    expect(m.MaterialFaceList[0].FaceId).toBe('0');
    expect(m.MaterialFaceList[0].FaceInfo.Width).toBeGreaterThan(100);
    const one = await t.facefusion().DescribeMaterialList({ ActivityId: activityId, MaterialId: materialId });
    expect(one.Count).toBe(1);
    expect(await errorCode(t.facefusion().DescribeMaterialList({ ActivityId: activityId, Limit: 21 }))).toBe('InvalidParameterValue.ParameterValueError');
    expect(await errorCode(t.facefusion().DescribeMaterialList({ ActivityId: activityId, MaterialId: 'mt_1' }))).toBe('InvalidParameterValue.MaterialIdNotFound');
    expect(await errorCode(t.facefusion().DescribeMaterialList({ ActivityId: 'at_1' }))).toBe('InvalidParameterValue.ActivityIdNotFound');
  });

  it('FuseFace base64: template size, visible label, XMP source type and MetaData; 100/100 gives the template back', async () => {
    const user = await smallJpeg(USER, 600);
    const r = await t.facefusion().FuseFace({
      ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', MergeInfos: [{ Image: user }],
      FuseProfileDegree: 0, FuseFaceDegree: 0, FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'campaign', MetaValue: 'summer <2026>' }] } },
    });
    const out = Buffer.from(r.FusedImage, 'base64');
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([1280, 720, 'jpeg']);
    const xmp = meta.xmp!.toString('utf8');
    expect(xmp).toContain('http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia');
    expect(xmp).toContain('campaign');
    expect(xmp).toContain('summer &lt;2026&gt;');

    const tpl = await decodeImage(fs.readFileSync(td(...TEMPLATE)));
    const fused = await decodeImage(out);
    const box = (await t.facefusion().DescribeMaterialList({ ActivityId: activityId })).MaterialInfos[0].MaterialFaceList[0].FaceInfo;
    const diff = (a: Buffer, b: Buffer, x0: number, y0: number, w: number, h: number) => {
      let s = 0;
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) for (let c = 0; c < 3; c++) s += Math.abs(a[(y * 1280 + x) * 3 + c] - b[(y * 1280 + x) * 3 + c]);
      return s / (w * h * 3);
    };
    // 0/0: the face region changed; far corners did not; the label darkened the bottom-right.
    expect(diff(tpl.data, fused.data, box.X, box.Y, box.Width, box.Height)).toBeGreaterThan(8);
    expect(diff(tpl.data, fused.data, 0, 0, 100, 100)).toBeLessThan(3);
    expect(diff(tpl.data, fused.data, 1280 - 60, 720 - 20, 40, 10)).toBeGreaterThan(20);

    const same = await t.facefusion().FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', MergeInfos: [{ Image: user }], FuseProfileDegree: 100, FuseFaceDegree: 100, LogoAdd: 0 });
    const sameBuf = Buffer.from(same.FusedImage, 'base64');
    expect((await sharp(sameBuf).metadata()).xmp!.toString()).toContain('compositeWithTrainedAlgorithmicMedia');
    const back = await decodeImage(sameBuf);
    expect(diff(tpl.data, back.data, box.X, box.Y, box.Width, box.Height)).toBeLessThan(3); // JPEG noise only
    expect(diff(tpl.data, back.data, 1280 - 60, 720 - 20, 40, 10)).toBeLessThan(3); // no label with LogoAdd 0
  }, 120_000);

  it('FuseFace url: a signed link that works, and refuses tampering; logged without the signature', async () => {
    const r = await t.facefusion().FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'url', MergeInfos: [{ Image: await smallJpeg(USER, 500) }] });
    expect(r.FusedImage).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/results\/[A-Za-z0-9_-]{32}\.jpg\?Expires=\d+&Signature=[0-9a-f]{64}$/);
    const ok = await fetch(r.FusedImage);
    expect(ok.status).toBe(200);
    expect((await sharp(Buffer.from(await ok.arrayBuffer())).metadata()).width).toBe(1280);
    // Flip the signature's first hex digit (to a digit it is not, so the URL always changes).
    expect((await fetch(r.FusedImage.replace(/Signature=(.)/, (_m: string, c: string) => `Signature=${c === '0' ? '1' : '0'}`))).status).toBe(403);
    expect((await fetch(r.FusedImage.replace(/Expires=(\d+)/, (_m: string, e: string) => `Expires=${Number(e) + 1}`))).status).toBe(403);
    const row = (await t.run.app.db.kysely.selectFrom('blobs').selectAll().where('data_class', '=', 'fused_result').execute())[0];
    expect(row.expires_at! - row.created_at).toBe(7 * 86400_000);
    const log = await t.run.app.fusion.repo.logForApp(t.creds.AppId);
    const entry = log.find((l) => l.result_url && r.FusedImage.startsWith(l.result_url.split('?')[0]))!;
    expect(entry).toMatchObject({ action: 'FuseFace', code: '', data_class: 'fusion_log', activity_id: activityId });
    expect(entry.result_url).not.toContain('Signature');
    expect(entry.expires_at! - entry.time).toBe(7 * 86400_000);
  }, 120_000);

  it('maps errors to Tencent codes', async () => {
    const ff = t.facefusion();
    const user = await smallJpeg(USER, 400);
    const base = { ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', MergeInfos: [{ Image: user }] };
    expect(await errorCode(ff.FuseFace({ ...base, ProjectId: 'at_404' }))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect(await errorCode(ff.FuseFace({ ...base, ModelId: 'mt_404' }))).toBe('FailedOperation.FuseMaterialNotExist');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: user, TemplateFaceID: '7' }] }))).toBe('FailedOperation.TemplateFaceIDNotExist');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: tdBase64('faces', 'edge', 'white.png') }] }))).toBe('FailedOperation.NoFaceDetected');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: 'not base64!' }] }))).toBe('FailedOperation.ImageDecodeFailed');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: Buffer.from('hello').toString('base64') }] }))).toBe('FailedOperation.ImageDecodeFailed');
    const huge = (await sharp({ create: { width: 4100, height: 80, channels: 3, background: '#888' } }).jpeg().toBuffer()).toString('base64');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: huge }] }))).toBe('FailedOperation.ImageResolutionExceed');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [] }))).toBe('InvalidParameterValue');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: Array(7).fill({ Image: user }) }))).toBe('InvalidParameterValue');
    expect(await errorCode(ff.FuseFace({ ...base, FuseFaceDegree: 101 }))).toBe('InvalidParameterValue.ParameterValueError');
    expect(await errorCode(ff.FuseFace({ ...base, RspImgType: 'png' }))).toBe('InvalidParameterValue');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: user, InputImageFaceRect: { X: 0, Y: 0, Width: 10, Height: 10 } }] }))).toBe('InvalidParameterValue.FaceRectParameterValueError');
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: user, InputImageFaceRect: { X: 0, Y: 0, Width: 40, Height: 40 } }] }))).toBe('FailedOperation.NoFaceDetected');
    expect(await errorCode(ff.FuseFace({ ...base, FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'k'.repeat(33), MetaValue: 'v' }] } } }))).toBe('InvalidParameterValue');
    // A face that is detected but narrower than 34 px: a small portrait on a grey canvas.
    const face = await sharp(fs.readFileSync(td(...USER))).resize({ width: 70 }).toBuffer();
    const small = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#808080' } }).composite([{ input: face, left: 60, top: 60 }]).jpeg({ quality: 95 }).toBuffer();
    const found = (await t.run.app.vision.analyze(await decodeImage(small), { mesh: true })).faces;
    expect(found).toHaveLength(1);
    expect(Math.min(found[0].box.width, found[0].box.height)).toBeLessThan(34);
    expect(await errorCode(ff.FuseFace({ ...base, MergeInfos: [{ Image: small.toString('base64') }] }))).toBe('FailedOperation.FaceSizeTooSmall');
  }, 120_000);

  it('draft activities are rate limited (RequestLimitExceeded)', async () => {
    const ff = t.common('facefusion');
    const draft = (await ff.request('CreateActivity', { ActivityName: 'draft' })).ActivityId;
    const bad = { ProjectId: draft, ModelId: 'mt_1', RspImgType: 'base64', MergeInfos: [{ Image: 'eA==' }] };
    const codes = await Promise.all([1, 2, 3].map(() => errorCode(t.facefusion().FuseFace(bad))));
    expect(codes).toContain('RequestLimitExceeded');
    expect(codes).toContain('FailedOperation.FuseMaterialNotExist');
  });

  it('no AppId can see or use another AppId\'s activities and materials', async () => {
    const ffOther = t.facefusion(other), commonOther = t.common('facefusion', other);
    expect((await commonOther.request('DescribeActivities', {})).Count).toBe(0);
    expect(await errorCode(ffOther.DescribeMaterialList({ ActivityId: activityId }))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect(await errorCode(ffOther.FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', MergeInfos: [{ Image: 'eA==' }] }))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect(await errorCode(commonOther.request('DeleteMaterial', { MaterialId: materialId }))).toBe('InvalidParameterValue.MaterialIdNotFound');
    expect(await errorCode(commonOther.request('DeleteActivity', { ActivityId: activityId }))).toBe('InvalidParameterValue.ActivityIdNotFound');
    // Their own activity cannot reach our material either.
    const theirs = (await commonOther.request('CreateActivity', { ActivityName: 'x', Status: 'PUBLISHED' })).ActivityId;
    expect(await errorCode(ffOther.FuseFace({ ProjectId: theirs, ModelId: materialId, RspImgType: 'base64', MergeInfos: [{ Image: 'eA==' }] }))).toBe('FailedOperation.FuseMaterialNotExist');
  });

  it('FuseFaceUltra with an inline template and a logo image (negative X/Y from the bottom-right)', async () => {
    const logo = (await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } }).png().toBuffer()).toString('base64');
    const r = await t.facefusion().FuseFaceUltra({
      RspImgType: 'base64', ModelImage: await smallJpeg(TEMPLATE, 640), MergeInfos: [{ Image: await smallJpeg(USER, 400) }],
      SwapModelType: 2, FusionUltraParam: { WarpRadio: 0.9 }, LogoParam: { LogoRect: { X: -10, Y: -10, Width: 50, Height: 30 }, LogoImage: logo },
    });
    const img = await decodeImage(Buffer.from(r.FusedImage, 'base64'));
    expect([img.width, img.height]).toEqual([640, 360]);
    const px = (x: number, y: number) => [...img.data.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3)];
    const [rr, gg, bb] = px(640 - 10 - 25, 360 - 10 - 15); // centre of the logo rect
    expect(rr).toBeGreaterThan(200);
    expect(gg + bb).toBeLessThan(80);
    expect(await errorCode(t.facefusion().FuseFaceUltra({ RspImgType: 'base64', ModelImage: await smallJpeg(TEMPLATE, 640), MergeInfos: [{ Image: 'eA==' }], SwapModelType: 9 }))).toBe('InvalidParameterValue.ParameterValueError');
  }, 120_000);

  it('result links stop working at their expiry, before any sweep (FuseFace 7 days, FuseFaceUltra 1 day)', async () => {
    const r = await t.facefusion().FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'url', MergeInfos: [{ Image: await smallJpeg(USER, 400) }] });
    const u = await t.facefusion().FuseFaceUltra({ RspImgType: 'url', ModelImage: await smallJpeg(TEMPLATE, 640), MergeInfos: [{ Image: await smallJpeg(USER, 400) }] });
    const status = async (url: string) => (await fetch(url)).status;
    const blobs = t.run.app.blobs;
    const keyOf = (url: string) => `fusion/${t.creds.AppId}/results/${/results\/([A-Za-z0-9_-]{32})\.jpg/.exec(url)![1]}.jpg`;
    try {
      expect([await status(r.FusedImage), await status(u.FusedImage)]).toEqual([200, 200]);
      clock.offset = 86400_000 - 60_000; // a minute before the Ultra link's day is up
      expect([await status(r.FusedImage), await status(u.FusedImage)]).toEqual([200, 200]);
      clock.offset = 86400_000 + 1000;
      expect([await status(r.FusedImage), await status(u.FusedImage)]).toEqual([200, 403]);
      clock.offset = 7 * 86400_000 - 60_000;
      expect(await status(r.FusedImage)).toBe(200);
      clock.offset = 7 * 86400_000 + 1000;
      expect(await status(r.FusedImage)).toBe(403);
      // Nothing was swept: the objects still exist, only the links refuse them.
      expect(await blobs.get(keyOf(r.FusedImage))).not.toBeNull();
      expect(await blobs.get(keyOf(u.FusedImage))).not.toBeNull();
    } finally {
      clock.offset = 0;
    }
  }, 120_000);

  it('Url inputs: material, user photo, logo and Ultra template from an allow-listed server; others refused', async () => {
    const ff = t.common('facefusion');
    const act = (await ff.request('CreateActivity', { ActivityName: 'urls', Status: 'PUBLISHED' })).ActivityId;
    const m = await ff.request('CreateMaterial', { ActivityId: act, Url: `${filesUrl}/template.jpg` });
    expect(m.Material.MaterialFaceList).toHaveLength(1);
    const r = await t.facefusion().FuseFace({
      ProjectId: act, ModelId: m.MaterialId, RspImgType: 'base64', MergeInfos: [{ Url: `${filesUrl}/user.jpg` }],
      LogoParam: { LogoRect: { X: 0, Y: 0, Width: 40, Height: 20 }, LogoUrl: `${filesUrl}/logo.png` },
    });
    const img = await decodeImage(Buffer.from(r.FusedImage, 'base64'));
    expect([img.width, img.height]).toEqual([1280, 720]);
    expect([...img.data.subarray((10 * 1280 + 20) * 3, (10 * 1280 + 20) * 3 + 3)].every((v) => v > 240)).toBe(true); // the white logo
    const u = await t.facefusion().FuseFaceUltra({ RspImgType: 'base64', ModelUrl: `${filesUrl}/template.jpg`, MergeInfos: [{ Url: `${filesUrl}/user.jpg` }] });
    expect((await sharp(Buffer.from(u.FusedImage, 'base64')).metadata()).width).toBe(1280);
    // Not allow-listed (loopback on another port), and missing on the allowed one.
    expect(await errorCode(t.facefusion().FuseFace({ ProjectId: act, ModelId: m.MaterialId, RspImgType: 'base64', MergeInfos: [{ Url: `${strangerUrl}/user.jpg` }] }))).toBe('FailedOperation.ImageDownloadError');
    expect(await errorCode(ff.request('CreateMaterial', { ActivityId: act, Url: `${strangerUrl}/template.jpg` }))).toBe('FailedOperation.ImageDownloadError');
    expect(await errorCode(t.facefusion().FuseFaceUltra({ RspImgType: 'base64', ModelUrl: `${filesUrl}/nothing.jpg`, MergeInfos: [{ Url: `${filesUrl}/user.jpg` }] }))).toBe('FailedOperation.ImageDownloadError');
    await ff.request('DeleteActivity', { ActivityId: act });
  }, 120_000);

  it('pre-signed Url inputs are logged (fusion log, error log) with parameter names only, never their values', async () => {
    const secret = 'f00dfacecafe0123456789abcdef0123456789abcdef';
    const signed = (p: string) => `${strangerUrl}${p}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDLEAKME%2F20250101&X-Amz-Signature=${secret}&token=tok-${secret}`;
    const ff = t.facefusion();
    const res = await ff.FuseFaceUltra({ RspImgType: 'base64', ModelUrl: signed('/template.jpg'), MergeInfos: [{ Url: signed('/user.jpg') }] }).catch((e: any) => e);
    expect(res.code).toBe('FailedOperation.ImageDownloadError');
    expect(res.message).not.toContain(secret);
    const log = await t.run.app.fusion.repo.logForApp(t.creds.AppId);
    const entry = log.find((l) => l.action === 'FuseFaceUltra' && l.code === 'FailedOperation.ImageDownloadError' && l.image_urls.includes('template.jpg'))!;
    expect(JSON.parse(entry.image_urls)).toEqual([
      `${strangerUrl}/user.jpg?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&token=REDACTED`,
      `${strangerUrl}/template.jpg?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&token=REDACTED`,
    ]);
    // The error log keeps a Url's origin only (services/logs/redact-string.ts).
    const errors = t.run.app.errorLog.readAll().filter((r) => r.requestId === res.requestId);
    expect(errors.length).toBe(1);
    expect(JSON.stringify(errors[0].params)).toContain(strangerUrl);
    for (const r of errors) {
      expect(JSON.stringify(r)).not.toContain(secret);
      expect(JSON.stringify(r)).not.toContain('AKIDLEAKME');
    }
  }, 60_000);

  it('FuseFaceUltra takes templates up to Tencent\'s 8000x8000, and refuses larger ones', async () => {
    // Plain colour compresses to a few hundred KB: the size check passes, the pixel limits decide.
    const plain = async (w: number, h: number) => (await sharp({ create: { width: w, height: h, channels: 3, background: { r: 120, g: 130, b: 140 } } }).jpeg().toBuffer()).toString('base64');
    const user = await smallJpeg(USER, 400);
    const ultra = (model: string) => errorCode(t.facefusion().FuseFaceUltra({ RspImgType: 'base64', ModelImage: model, MergeInfos: [{ Image: user }] }));
    // Decoded and analysed (no face in a plain image), not refused for its size.
    expect(await ultra(await plain(8000, 8000))).toBe('FailedOperation.NoFaceDetected');
    expect(await ultra(await plain(8001, 64))).toBe('FailedOperation.ImageResolutionExceed');
  }, 180_000); // detection over 64 MP: ~10 s on a quiet machine, much more under load

  it('faces far apart fuse in parallel workers into separate patches, with the same pixels as one after the other', async () => {
    const tiles = await Promise.all([USER, TEMPLATE].map(async (p) => sharp(fs.readFileSync(td(...p))).resize(480, 400, { fit: 'cover', position: 'north' }).toBuffer()));
    const two = await decodeImage(await sharp({ create: { width: 1200, height: 400, channels: 3, background: '#777' } }).composite([{ input: tiles[0], left: 0, top: 0 }, { input: tiles[1], left: 720, top: 0 }]).png().toBuffer());
    const faces = (await t.run.app.vision.analyze(two, { mesh: true })).faces.sort((a, b) => a.box.x - b.box.x);
    expect(faces).toHaveLength(2);
    const user = await decodeImage(fs.readFileSync(td('faces', 'identities', 'rose_leslie', 'img1.jpg')));
    const userMesh = meshArray((await t.run.app.vision.analyze(user, { mesh: true })).faces[0].mesh!);
    const jobs = faces.map((f) => ({ templateMesh: meshArray(f.mesh!), user, userMesh, profile: 0.2, appearance: 0.2 }));
    expect(independentGroups(two, jobs)).toHaveLength(2);
    // Overlapping faces stay together: the same face twice is one group.
    expect(independentGroups(two, [jobs[0], jobs[0]])).toHaveLength(1);
    const pool = new FusionPool(2);
    try {
      const patches = await pool.run(two, jobs);
      expect(patches).toHaveLength(2);
      const paste = (ps: { x: number; y: number; width: number; height: number; data: Uint8Array }[]) => {
        const out = Buffer.from(two.data);
        for (const p of ps) for (let y = 0; y < p.height; y++) out.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), ((y + p.y) * two.width + p.x) * 3);
        return out;
      };
      const parallel = paste(patches), serial = paste([fuseIntoTemplate(two, jobs)]);
      expect(parallel.equals(serial)).toBe(true);
      expect(parallel.equals(two.data)).toBe(false);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('deleting a material, then its activity, leaves nothing behind (rows, blobs, cache)', async () => {
    const ff = t.common('facefusion');
    const act = (await ff.request('CreateActivity', { ActivityName: 'temp', Status: 'PUBLISHED' })).ActivityId;
    const m1 = (await ff.request('CreateMaterial', { ActivityId: act, Image: await smallJpeg(TEMPLATE, 640) })).MaterialId;
    const m2 = (await ff.request('CreateMaterial', { ActivityId: act, Image: await smallJpeg(TEMPLATE, 500) })).MaterialId;
    const r = await t.facefusion().FuseFace({ ProjectId: act, ModelId: m1, RspImgType: 'url', MergeInfos: [{ Image: await smallJpeg(USER, 400) }] });
    const { app } = t.run;
    const k = app.db.kysely;
    const rowsFor = async (ids: string[]) => ({
      materials: (await k.selectFrom('fusion_materials').selectAll().where('material_id', 'in', ids).execute()).length,
      faces: (await k.selectFrom('fusion_material_faces').selectAll().where('material_id', 'in', ids).execute()).length,
      results: (await k.selectFrom('fusion_results').selectAll().where('material_id', 'in', ids).execute()).length,
      blobs: (await k.selectFrom('blobs').selectAll().where('owner_ref', 'in', ids).execute()).length,
    });
    const blobKeys = async () => (await app.blobs.list(`fusion/${t.creds.AppId}/`)).length;
    expect(await rowsFor([m1])).toEqual({ materials: 1, faces: 1, results: 1, blobs: 2 });
    expect((await k.selectFrom('fusion_material_faces').select('data_class').where('material_id', '=', m1).executeTakeFirstOrThrow()).data_class).toBe('material_derivative');
    expect(app.fusion.materials.cached(m1)).toBe(true);
    const before = await blobKeys();

    await ff.request('DeleteMaterial', { MaterialId: m1 });
    expect(await rowsFor([m1])).toEqual({ materials: 0, faces: 0, results: 0, blobs: 0 });
    expect(await blobKeys()).toBe(before - 2);
    expect(app.fusion.materials.cached(m1)).toBe(false);
    expect((await fetch(r.FusedImage)).status).toBe(404);
    expect(await errorCode(t.facefusion().FuseFace({ ProjectId: act, ModelId: m1, RspImgType: 'base64', MergeInfos: [{ Image: 'eA==' }] }))).toBe('FailedOperation.FuseMaterialNotExist');

    await ff.request('DeleteActivity', { ActivityId: act });
    expect(await rowsFor([m2])).toEqual({ materials: 0, faces: 0, results: 0, blobs: 0 });
    expect(await blobKeys()).toBe(before - 3);
    expect(app.fusion.materials.cached(m2)).toBe(false);
    expect(await k.selectFrom('fusion_activities').selectAll().where('activity_id', '=', act).executeTakeFirst()).toBeUndefined();
    expect(await errorCode(t.facefusion().DescribeMaterialList({ ActivityId: act }))).toBe('InvalidParameterValue.ActivityIdNotFound');
  }, 120_000);
});
