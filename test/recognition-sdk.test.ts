// DetectFace, CompareFace, CompareMaskFace, DetectFaceSimilarity through the official SDK
// against a real server; Url input from a loopback server (allow-listed, and refused when not).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from './helpers/testdata.ts';
import { GROUP_FACE_COUNTS } from './helpers/face-counts.ts';

describe.skipIf(!hasTestdata)('recognition actions (SDK)', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  let t: TestServer;
  let strict: TestServer;
  let files: http.Server;
  let filesPort = 0;

  beforeAll(async () => {
    files = http.createServer((req, res) => {
      if (req.url === '/obama.jpg') { res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(fs.readFileSync(td('faces/identities/obama/obama.jpg'))); }
      else if (req.url === '/redirect') { res.writeHead(302, { location: '/obama.jpg' }); res.end(); }
      else { res.writeHead(404); res.end(); }
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesPort = (files.address() as AddressInfo).port;
    t = await startTestServer({ FACEVAULT_URL_ALLOWLIST: `127.0.0.1:${filesPort}`, FACEVAULT_INFERENCE_THREADS: '2' });
    strict = await startTestServer({ FACEVAULT_INFERENCE_THREADS: '1' });
  });
  afterAll(async () => {
    await t?.stop();
    await strict?.stop();
    await new Promise((r) => files?.close(r));
  });

  it('DetectFace finds every face of a group photo with MaxFaceNum, largest first', async () => {
    const r = await t.iai().DetectFace({ Image: tdBase64('faces/groups/bbt4.jpg'), MaxFaceNum: 120 });
    expect(r.FaceInfos).toHaveLength(GROUP_FACE_COUNTS['bbt4.jpg']);
    expect(r.ImageWidth).toBe(710);
    expect(r.ImageHeight).toBe(473);
    expect(r.FaceModelVersion).toBe('3.0');
    const areas = r.FaceInfos.map((f: any) => f.Width * f.Height);
    expect([...areas].sort((a, b) => b - a)).toEqual(areas);
    for (const f of r.FaceInfos) {
      expect(Number.isInteger(f.X) && Number.isInteger(f.Width)).toBe(true);
      expect(f.Width).toBeGreaterThan(34);
    }
    // default MaxFaceNum = 1: the largest face only
    const one = await t.iai().DetectFace({ Image: tdBase64('faces/groups/bbt4.jpg') });
    expect(one.FaceInfos).toHaveLength(1);
    // The same face; its box comes from the single-face fast path, so it may differ by a few pixels.
    const [a, b] = [one.FaceInfos[0], r.FaceInfos[0]];
    const ix = Math.max(0, Math.min(a.X + a.Width, b.X + b.Width) - Math.max(a.X, b.X)), iy = Math.max(0, Math.min(a.Y + a.Height, b.Y + b.Height) - Math.max(a.Y, b.Y));
    expect((ix * iy) / (a.Width * a.Height + b.Width * b.Height - ix * iy)).toBeGreaterThan(0.7);
  });

  it('DetectFace with attributes and quality returns measured values only', async () => {
    const r = await t.iai().DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg'), NeedFaceAttributes: 1, NeedQualityDetection: 1 });
    const f = r.FaceInfos[0];
    expect(f.FaceAttributesInfo.Gender).toBeGreaterThanOrEqual(50); // a man
    expect(f.FaceAttributesInfo.Age).toBeGreaterThan(20);
    // No model measures these: Tencent's not-requested values (present for typed clients), not made up.
    expect(f.FaceAttributesInfo).toMatchObject({ Beauty: 0, Glass: false, Hat: false, Mask: false, Hair: { Length: 0, Bang: 0, Color: 0 } });
    expect(f.FaceQualityInfo.Score).toBeGreaterThan(40);
    const plain = await t.iai().DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg') });
    // Not requested: Tencent's not-requested values (all zero/false), not measurements.
    expect(plain.FaceInfos[0].FaceAttributesInfo).toEqual({ Gender: 0, Age: 0, Expression: 0, Glass: false, Pitch: 0, Yaw: 0, Roll: 0, Beauty: 0, Hat: false, Mask: false, Hair: { Length: 0, Bang: 0, Color: 0 }, EyeOpen: false });
    // Tencent: attributes for the 5 largest faces only; bbt4 has 6.
    const group = await t.iai().DetectFace({ Image: tdBase64('faces/groups/bbt4.jpg'), MaxFaceNum: 120, NeedFaceAttributes: 1 });
    expect(group.FaceInfos).toHaveLength(6);
    expect(group.FaceInfos.slice(0, 5).every((x: any) => typeof x.FaceAttributesInfo.Age === 'number')).toBe(true);
    expect(group.FaceInfos[5].FaceAttributesInfo).toEqual(plain.FaceInfos[0].FaceAttributesInfo);
    expect(group.FaceInfos[5].FaceQualityInfo).toBeNull();
  });

  it('DetectFace: no face is FailedOperation.ImageFacedetectFailed and is not billed', async () => {
    const before = new Set((await t.run.app.runningLog.forApp(t.creds.AppId)).map((x) => x.request_id));
    const failed = await t.iai().DetectFace({ Image: tdBase64('faces/edge/white.png') }).then(() => null, (e: { code: string; requestId: string }) => e);
    expect(failed?.code).toBe('FailedOperation.ImageFacedetectFailed');
    const served = await t.iai().DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg') });
    expect(served.FaceInfos).toHaveLength(1);
    // Exactly this test's two calls are new in the log: one unbilled failure, one billed success.
    const rows = (await t.run.app.runningLog.forApp(t.creds.AppId)).filter((x) => !before.has(x.request_id));
    const noFace = rows.filter((x) => x.action === 'DetectFace' && x.code === 'FailedOperation.ImageFacedetectFailed');
    const found = rows.filter((x) => x.action === 'DetectFace' && x.code === '');
    expect(rows).toHaveLength(2);
    expect(noFace.map((x) => [x.request_id, x.billed])).toEqual([[failed!.requestId, 0]]);
    expect(found.map((x) => [x.request_id, x.billed])).toEqual([[served.RequestId, 1]]);
  });

  it('NeedRotateDetection finds a face turned by 90° without EXIF, in the input frame', async () => {
    const turned = await sharp(td('faces/identities/obama/obama.jpg')).rotate(90).jpeg().toBuffer(); // pixels turned, no EXIF tag
    const meta = await sharp(turned).metadata();
    expect(meta.orientation).toBeUndefined();
    expect(await errorCode(t.iai().DetectFace({ Image: turned.toString('base64') }))).toBe('FailedOperation.ImageFacedetectFailed');
    const r = await t.iai().DetectFace({ Image: turned.toString('base64'), NeedRotateDetection: 1 });
    expect(r.FaceInfos).toHaveLength(1);
    expect([r.ImageWidth, r.ImageHeight]).toEqual([meta.width, meta.height]);
    const f = r.FaceInfos[0];
    expect(f.Width).toBeGreaterThan(f.Height); // an upright face's box, turned
    const c = await t.iai().CompareFace({ ImageA: turned.toString('base64'), ImageB: tdBase64('faces/identities/obama/obama2.jpg'), NeedRotateDetection: 1 });
    expect(c.Score).toBeGreaterThan(50);
  });

  it('CompareFace scores the same person high and different people low', async () => {
    const same = await t.iai().CompareFace({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/identities/obama/obama2.jpg') });
    const diff = await t.iai().CompareFace({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/identities/biden/biden.jpg') });
    expect(same.Score).toBeGreaterThan(50); // above Tencent's "same person" line
    expect(diff.Score).toBeLessThan(40);
    expect(same.FaceModelVersion).toBe('3.0');
    const mask = await t.iai().CompareMaskFace({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/identities/obama/obama2.jpg') });
    expect(mask.Score).toBeCloseTo(same.Score, 0);
    const sim = await t.iai().DetectFaceSimilarity({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/identities/obama/obama2.jpg') });
    const simDiff = await t.iai().DetectFaceSimilarity({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/identities/biden/biden.jpg') });
    expect(sim.Score).toBeGreaterThanOrEqual(70); // Tencent's fixed threshold for this action
    expect(simDiff.Score).toBeLessThan(70);
  });

  it('CompareFace FaceMatchingStrategy picks by confidence or by area', async () => {
    // kit_with_rose: Kit (index 0) is the larger face; both score ~1.0, so area decides under 1.
    const a = await t.iai().CompareFace({ ImageA: tdBase64('faces/groups/kit_with_rose.jpg'), ImageB: tdBase64('faces/identities/kit_harington/john1.jpeg'), FaceMatchingStrategy: 1 });
    const b = await t.iai().CompareFace({ ImageA: tdBase64('faces/groups/kit_with_rose.jpg'), ImageB: tdBase64('faces/identities/rose_leslie/img1.jpg'), FaceMatchingStrategy: 1 });
    expect(a.Score).toBeGreaterThan(b.Score);
    expect(await errorCode(t.iai().CompareFace({ ImageA: tdBase64('faces/groups/kit_with_rose.jpg'), ImageB: tdBase64('faces/groups/kit_with_rose.jpg'), FaceMatchingStrategy: 2 }))).toBe('InvalidParameterValue');
  });

  it('Url input: an allow-listed loopback server works, redirects are followed', async () => {
    const r = await t.iai().DetectFace({ Url: `http://127.0.0.1:${filesPort}/obama.jpg` });
    expect(r.FaceInfos).toHaveLength(1);
    const viaRedirect = await t.iai().CompareFace({ UrlA: `http://127.0.0.1:${filesPort}/redirect`, ImageB: tdBase64('faces/identities/obama/obama2.jpg') });
    expect(viaRedirect.Score).toBeGreaterThan(50);
    // Url wins over Image
    const wins = await t.iai().DetectFace({ Url: `http://127.0.0.1:${filesPort}/obama.jpg`, Image: tdBase64('faces/groups/bbt4.jpg'), MaxFaceNum: 10 });
    expect(wins.FaceInfos).toHaveLength(1);
    expect(await errorCode(t.iai().DetectFace({ Url: `http://127.0.0.1:${filesPort}/missing.jpg` }))).toBe('FailedOperation.ImageDownloadError');
  });

  it('Url input: loopback, private and metadata addresses are refused without an allow-list', async () => {
    for (const url of [`http://127.0.0.1:${filesPort}/obama.jpg`, `http://localhost:${filesPort}/obama.jpg`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/x.jpg', `http://[::1]:${filesPort}/obama.jpg`, `http://[::ffff:127.0.0.1]:${filesPort}/obama.jpg`]) {
      expect(await errorCode(strict.iai().DetectFace({ Url: url })), url).toBe('FailedOperation.ImageDownloadError');
    }
    expect(await errorCode(strict.iai().DetectFace({ Url: 'file:///etc/passwd' }))).toBe('InvalidParameterValue.UrlIllegal');
    expect(await errorCode(strict.iai().DetectFace({ Url: 'ftp://example.com/a.jpg' }))).toBe('InvalidParameterValue.UrlIllegal');
  });

  it('bad inputs get Tencent error codes', async () => {
    const iai = t.iai();
    expect(await errorCode(iai.DetectFace({}))).toBe('InvalidParameterValue.ImageEmpty');
    expect(await errorCode(iai.DetectFace({ Image: 'not base64 at all!!' }))).toBe('FailedOperation.ImageDecodeFailed');
    expect(await errorCode(iai.DetectFace({ Image: Buffer.from('hello world, not an image').toString('base64') }))).toBe('FailedOperation.ImageDecodeFailed');
    const gif = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#888' } }).gif().toBuffer();
    expect(await errorCode(iai.DetectFace({ Image: gif.toString('base64') }))).toBe('FailedOperation.ImageDecodeFailed');
    const tiny = await sharp({ create: { width: 200, height: 50, channels: 3, background: '#888' } }).png().toBuffer();
    expect(await errorCode(iai.DetectFace({ Image: tiny.toString('base64') }))).toBe('FailedOperation.ImageResolutionTooSmall');
    const widePng = await sharp({ create: { width: 2100, height: 100, channels: 3, background: '#888' } }).png().toBuffer();
    expect(await errorCode(iai.DetectFace({ Image: widePng.toString('base64') }))).toBe('FailedOperation.ImageResolutionExceed');
    const wideJpg = await sharp({ create: { width: 2100, height: 100, channels: 3, background: '#888' } }).jpeg().toBuffer();
    expect(await errorCode(iai.DetectFace({ Image: wideJpg.toString('base64') }))).toBe('FailedOperation.ImageFacedetectFailed'); // JPG may be 4000 wide
    expect(await errorCode(iai.DetectFace({ Image: 'A'.repeat(5 * 1024 * 1024 + 4) }))).toBe('FailedOperation.ImageSizeExceed');
    expect(await errorCode(iai.DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg'), MinFaceSize: 40 }))).toBe('InvalidParameterValue');
    expect(await errorCode(iai.DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg'), MaxFaceNum: 121 }))).toBe('InvalidParameterValue');
    expect(await errorCode(iai.DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg'), FaceModelVersion: '2.0' }))).toBe('InvalidParameterValue.FaceModelVersionIllegal');
    expect(await errorCode(iai.CompareFace({ ImageA: tdBase64('faces/identities/obama/obama.jpg') }))).toBe('InvalidParameterValue.ImageEmpty');
    expect(await errorCode(iai.CompareFace({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/edge/white.png') }))).toBe('FailedOperation.ImageFacedetectFailed');
    expect(await errorCode(iai.CompareFace({ ImageA: tdBase64('faces/identities/obama/obama.jpg'), ImageB: tdBase64('faces/identities/obama/obama.jpg'), QualityControl: 5 }))).toBe('InvalidParameterValue.QualityControlIllegal');
  });
});
