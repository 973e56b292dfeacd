// DetectFaceAttributes, AnalyzeFace, AnalyzeDenseLandmarks, DetectLiveFaceAccurate through the
// official SDK against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, tdBase64, testdataSkipReason } from './helpers/testdata.ts';

describe.skipIf(!hasTestdata)('analysis actions via the SDK', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer(); }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('DetectFaceAttributes returns only the requested, measured attributes', async () => {
    const r = await t.iai().DetectFaceAttributes({ Image: tdBase64('faces/expressions/happy.jpg'), FaceAttributesType: 'age,GENDER,Emotion,smile,Eye,HeadPose,Beauty,Hat' });
    expect(r.ImageWidth).toBe(500);
    expect(r.FaceModelVersion).toBe('3.0');
    expect(r.FaceDetailInfos).toHaveLength(1);
    const a = r.FaceDetailInfos[0].FaceDetailAttributesInfo;
    expect(a.Gender).toEqual({ Type: 1, Probability: expect.any(Number) }); // female
    expect(a.Emotion.Type).toBe(1); // happy
    expect(a.Smile).toBeGreaterThan(80);
    expect(a.Age).toBeGreaterThan(15);
    expect(a.Age).toBeLessThanOrEqual(65);
    expect(a.Eye.EyeOpen.Type).toBe(0);
    expect(Math.abs(a.HeadPose.Yaw)).toBeLessThanOrEqual(30);
    expect(a.Beauty).toBeUndefined(); // not measured: left out, not invented
    expect(a.Hat).toBeUndefined();
    const rect = r.FaceDetailInfos[0].FaceRect;
    expect(rect.Width).toBeGreaterThan(50);
    const none = await t.iai().DetectFaceAttributes({ Image: tdBase64('faces/expressions/happy.jpg') });
    expect(none.FaceDetailInfos[0].FaceDetailAttributesInfo).toEqual({});
    expect(await errorCode(t.iai().DetectFaceAttributes({ Image: tdBase64('faces/expressions/happy.jpg'), FaceAttributesType: 'Age,Wings' }))).toBe('InvalidParameterValue');
    expect(await errorCode(t.iai().DetectFaceAttributes({ Image: tdBase64('faces/edge/white.png') }))).toBe('FailedOperation.ImageFacedetectFailed');
  }, 120_000);

  it('DetectFaceAttributes: several faces, largest first, MaxFaceNum honoured', async () => {
    const r = await t.iai().DetectFaceAttributes({ Image: tdBase64('faces/groups/obama_and_biden.jpg'), MaxFaceNum: 5, FaceAttributesType: 'Gender' });
    // Obama, Biden and a girl in the lower right.
    expect(r.FaceDetailInfos.length).toBe(3);
    const areas = r.FaceDetailInfos.map((f: any) => f.FaceRect.Width * f.FaceRect.Height);
    expect([...areas].sort((x, y) => y - x)).toEqual(areas);
    for (const f of r.FaceDetailInfos.slice(0, 2)) expect(f.FaceDetailAttributesInfo.Gender.Type).toBe(0);
    const one = await t.iai().DetectFaceAttributes({ Image: tdBase64('faces/groups/obama_and_biden.jpg') });
    expect(one.FaceDetailInfos.length).toBe(1);
  }, 120_000);

  it('AnalyzeFace returns the 90-point layout inside the face', async () => {
    const r = await t.iai().AnalyzeFace({ Image: tdBase64('faces/identities/obama/obama.jpg'), Mode: 1 });
    expect(r.FaceShapeSet).toHaveLength(1);
    const s = r.FaceShapeSet[0];
    const counts = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, (v as unknown[]).length]));
    expect(counts).toEqual({ FaceProfile: 21, LeftEye: 8, RightEye: 8, LeftEyeBrow: 8, RightEyeBrow: 8, Mouth: 22, Nose: 13, LeftPupil: 1, RightPupil: 1 });
    const mean = (pts: { X: number; Y: number }[]) => ({ x: pts.reduce((a, p) => a + p.X, 0) / pts.length, y: pts.reduce((a, p) => a + p.Y, 0) / pts.length });
    const le = mean(s.LeftEye), re = mean(s.RightEye), mouth = mean(s.Mouth), brow = mean(s.LeftEyeBrow);
    expect(le.x).toBeLessThan(re.x);
    expect(brow.y).toBeLessThan(le.y);
    expect(mouth.y).toBeGreaterThan(le.y);
    expect(Math.abs(s.LeftPupil[0].X - le.x)).toBeLessThan(Math.abs(re.x - le.x) * 0.25);
    const all = await t.iai().AnalyzeFace({ Image: tdBase64('faces/groups/obama_and_biden.jpg'), Mode: 0 });
    expect(all.FaceShapeSet.length).toBe(3);
    expect(await errorCode(t.iai().AnalyzeFace({ Image: tdBase64('faces/identities/obama/obama.jpg'), Mode: 3 }))).toBe('InvalidParameterValue');
  }, 120_000);

  it('AnalyzeDenseLandmarks returns every DenseFaceShape part', async () => {
    const r = await t.iai().AnalyzeDenseLandmarks({ Image: tdBase64('faces/identities/obama/obama.jpg'), Mode: 1 });
    const d = r.DenseFaceShapeSet[0];
    for (const k of ['LeftEye', 'RightEye', 'LeftEyeBrow', 'RightEyeBrow', 'MouthOutside', 'MouthInside', 'Nose', 'LeftPupil', 'RightPupil', 'CentralAxis', 'Chin', 'LeftEyeBags', 'RightEyeBags', 'Forehead']) {
      expect(d[k].length).toBeGreaterThan(0);
      for (const p of d[k]) {
        expect(p.X).toBeGreaterThan(d.X - d.Width * 0.3);
        expect(p.X).toBeLessThan(d.X + d.Width * 1.3);
      }
    }
    expect(await errorCode(t.iai().AnalyzeDenseLandmarks({ Image: tdBase64('faces/identities/obama/obama.jpg'), FaceModelVersion: '2.0' }))).toBe('InvalidParameterValue.FaceModelVersionIllegal');
  }, 120_000);

  it('DetectLiveFaceAccurate scores a real photo above the recommended threshold 40', async () => {
    const r = await t.iai().DetectLiveFaceAccurate({ Image: tdBase64('faces/identities/obama/obama.jpg') });
    expect(r.Score).toBeGreaterThanOrEqual(40);
    expect(r.Score).toBeLessThanOrEqual(100);
    expect(r.FaceModelVersion).toBe('3.0');
    expect(await errorCode(t.iai().DetectLiveFaceAccurate({ Image: tdBase64('faces/edge/white.png') }))).toBe('FailedOperation.ImageFacedetectFailed');
  }, 120_000);
});
