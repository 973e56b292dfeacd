// facefusion's request parsing as declared (api/handlers/fusion.ts, fusion-params.ts), without a
// server: nested structures refuse unknown keys and report Tencent's codes with the field named
// the way the fusion service names it (MergeInfos.0.Image).
import { describe, expect, it } from 'vitest';
import { ActionRegistry } from '../src/api/actions/registry.ts';
import { fusionActions } from '../src/api/handlers/fusion.ts';

// Parsing never reaches the module; the declarations only close over it.
const stub = new Proxy({}, { get: () => stub }) as never;
const registry = new ActionRegistry(fusionActions({ fusion: stub }));
const parse = (action: string, p: Record<string, unknown>) => registry.get('facefusion', action)!.parse(p);
const failure = (action: string, p: Record<string, unknown>) => {
  try {
    parse(action, p);
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  return { code: 'OK', message: '' };
};

const FUSE = { ProjectId: 'at_1', ModelId: 'mt_1', RspImgType: 'base64', MergeInfos: [{ Image: 'eA==' }] };
const ULTRA = { RspImgType: 'url', ModelImage: 'eA==', MergeInfos: [{ Url: 'https://example.com/u.jpg' }] };

describe('FuseFace parameters', () => {
  it('parses a full request into the service shape, Url winning over Image', () => {
    const r = parse('FuseFace', {
      ...FUSE, MergeInfos: [{ Image: 'eA==', Url: 'https://example.com/u.jpg', InputImageFaceRect: { X: 1, Y: 2, Width: 40, Height: 50 }, TemplateFaceID: '0', TemplateFaceRect: { X: 0, Y: 0, Width: 40, Height: 40 } }],
      FuseProfileDegree: 30, LogoAdd: 0, LogoParam: { LogoRect: { X: -10, Y: -10, Width: 50, Height: 30 }, LogoUrl: 'https://example.com/l.png' },
      FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'k', MetaValue: 'v' }] } }, EndUserId: 'eu-1', ParentalConsent: { Reference: 'p-1' },
    });
    expect(r).toMatchObject({
      ProjectId: 'at_1', RspImgType: 'base64', FuseProfileDegree: 30, LogoAdd: 0,
      // TemplateFaceRect is taken for FuseFace too (it chooses the material's face when no TemplateFaceID is given).
      MergeInfos: [{ input: { url: 'https://example.com/u.jpg' }, faceRect: { x: 1, y: 2, width: 40, height: 50 }, templateFaceId: '0', templateFaceRect: { x: 0, y: 0, width: 40, height: 40 } }],
      LogoParam: { rect: { x: -10, y: -10, width: 50, height: 30 }, input: { url: 'https://example.com/l.png' } },
      FuseParam: [{ key: 'k', value: 'v' }], EndUserId: 'eu-1', ParentalConsent: 'p-1',
    });
    // Absent LogoAdd means 1 (a label); explicit nulls count as absent.
    const nulls = parse('FuseFace', { ...FUSE, LogoAdd: null, FuseParam: null });
    expect(nulls.LogoAdd).toBe(1);
    expect(nulls.FuseParam).toBeUndefined();
  });

  it('refuses unknown keys at every level, naming the path', () => {
    expect(failure('FuseFace', { ...FUSE, Bogus: 1 }).code).toBe('UnknownParameter');
    for (const [p, path] of [
      [{ MergeInfos: [{ Image: 'eA==', Extra: 1 }] }, 'MergeInfos.0.Extra'],
      [{ MergeInfos: [{ Image: 'eA==', InputImageFaceRect: { X: 0, Y: 0, Width: 40, Height: 40, Z: 1 } }] }, 'MergeInfos.0.InputImageFaceRect.Z'],
      [{ LogoParam: { LogoRect: { X: 0, Y: 0, Width: 9, Height: 9 }, LogoImage: 'eA==', Alpha: 1 } }, 'LogoParam.Alpha'],
      [{ FuseParam: { Quality: 1 } }, 'FuseParam.Quality'],
      [{ FuseParam: { ImageCodecParam: { Exif: [] } } }, 'FuseParam.ImageCodecParam.Exif'],
      [{ FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'k', MetaValue: 'v', Type: 1 }] } } }, 'FuseParam.ImageCodecParam.MetaData.0.Type'],
      [{ ParentalConsent: { Reference: 'r', Signed: true } }, 'ParentalConsent.Signed'],
    ] as const) {
      const f = failure('FuseFace', { ...FUSE, ...p });
      expect(f.code, path).toBe('UnknownParameter');
      expect(f.message, path).toContain(path);
    }
  });

  it('reports Tencent\'s codes for missing, mistyped and out-of-range values', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ProjectId: undefined }, 'MissingParameter', 'ProjectId'],
      [{ ModelId: 'm'.repeat(65) }, 'InvalidParameterValue', 'ModelId'],
      [{ RspImgType: undefined }, 'MissingParameter', 'RspImgType'],
      [{ RspImgType: 'png' }, 'InvalidParameterValue', 'RspImgType'],
      [{ RspImgType: 1 }, 'InvalidParameter', 'RspImgType'],
      [{ MergeInfos: undefined }, 'MissingParameter', 'MergeInfos'],
      [{ MergeInfos: {} }, 'InvalidParameter', 'MergeInfos'],
      [{ MergeInfos: [] }, 'InvalidParameterValue', 'MergeInfos'],
      [{ MergeInfos: Array(7).fill({ Image: 'eA==' }) }, 'InvalidParameterValue', 'MergeInfos'],
      [{ MergeInfos: ['eA=='] }, 'InvalidParameter', 'MergeInfos.0'],
      [{ MergeInfos: [{}] }, 'InvalidParameterValue', 'MergeInfos.0: one of Image or Url'],
      [{ MergeInfos: [{ Image: 5 }] }, 'InvalidParameter', 'MergeInfos.0.Image'],
      [{ MergeInfos: [{ Image: 'eA==', InputImageFaceRect: { X: 0, Y: 0, Width: 10, Height: 10 } }] }, 'InvalidParameterValue.FaceRectParameterValueError', 'MergeInfos.0.InputImageFaceRect'],
      [{ MergeInfos: [{ Image: 'eA==', InputImageFaceRect: { X: 0, Y: 0, Width: '40', Height: 40 } }] }, 'InvalidParameterValue.FaceRectParameterValueError', 'MergeInfos.0.InputImageFaceRect.Width'],
      [{ MergeInfos: [{ Image: 'eA==', InputImageFaceRect: [] }] }, 'InvalidParameter', 'MergeInfos.0.InputImageFaceRect'],
      [{ MergeInfos: [{ Image: 'eA==', TemplateFaceID: 'x'.repeat(65) }] }, 'InvalidParameterValue', 'MergeInfos.0.TemplateFaceID'],
      [{ FuseFaceDegree: 101 }, 'InvalidParameterValue.ParameterValueError', 'FuseFaceDegree'],
      [{ FuseProfileDegree: 1.5 }, 'InvalidParameter', 'FuseProfileDegree'],
      [{ LogoAdd: '1' }, 'InvalidParameter', 'LogoAdd'],
      [{ LogoParam: { LogoImage: 'eA==' } }, 'MissingParameter', 'LogoParam.LogoRect'],
      [{ LogoParam: { LogoRect: { X: 0, Y: 0, Width: 2161, Height: 9 }, LogoImage: 'eA==' } }, 'InvalidParameterValue.FaceRectParameterValueError', 'LogoParam.LogoRect'],
      [{ LogoParam: { LogoRect: { X: 0, Y: 0, Width: 9, Height: 9 } } }, 'InvalidParameterValue', 'LogoParam: one of LogoImage or LogoUrl'],
      [{ FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'k'.repeat(33), MetaValue: 'v' }] } } }, 'InvalidParameterValue', 'FuseParam.ImageCodecParam.MetaData.0.MetaKey'],
      [{ FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'k' }] } } }, 'MissingParameter', 'FuseParam.ImageCodecParam.MetaData.0.MetaValue'],
      [{ FuseParam: { ImageCodecParam: { MetaData: [{ MetaKey: 'a', MetaValue: 'b' }, { MetaKey: 'c', MetaValue: 'd' }] } } }, 'InvalidParameterValue', 'FuseParam.ImageCodecParam.MetaData'],
      [{ EndUserId: 'has space' }, 'InvalidParameterValue', 'EndUserId'],
      [{ ParentalConsent: {} }, 'MissingParameter', 'ParentalConsent.Reference'],
    ];
    for (const [p, code, named] of cases) {
      const f = failure('FuseFace', { ...FUSE, ...p });
      expect(f.code, JSON.stringify(p)).toBe(code);
      expect(f.message, JSON.stringify(p)).toContain(named);
    }
  });
});

describe('FuseFaceUltra parameters', () => {
  it('takes Tencent\'s defaults and TemplateFaceRect; checks ratios and the model type', () => {
    expect(parse('FuseFaceUltra', ULTRA)).toMatchObject({ SwapModelType: 1, LogoAdd: 1, FusionUltraParam: { warp: 0.7, enhance: 0.5, mp: 0.5, makeup: 0 } });
    const r = parse('FuseFaceUltra', { ...ULTRA, SwapModelType: 6, FusionUltraParam: { WarpRadio: 0.2, MakeupTransferRadio: 1, BlurRadio: 0, TeethEnhanceRadio: 0 }, MergeInfos: [{ Image: 'eA==', TemplateFaceRect: { X: 5, Y: 5, Width: 30, Height: 30 } }] });
    expect(r).toMatchObject({ SwapModelType: 6, FusionUltraParam: { warp: 0.2, makeup: 1 }, MergeInfos: [{ templateFaceRect: { x: 5, y: 5, width: 30, height: 30 } }] });
    expect(failure('FuseFaceUltra', { ...ULTRA, SwapModelType: 9 }).code).toBe('InvalidParameterValue.ParameterValueError');
    expect(failure('FuseFaceUltra', { ...ULTRA, FusionUltraParam: { TeethEnhanceRadio: 1.1 } })).toMatchObject({ code: 'InvalidParameterValue.ParameterValueError', message: expect.stringContaining('FusionUltraParam.TeethEnhanceRadio') });
    expect(failure('FuseFaceUltra', { ...ULTRA, FusionUltraParam: { Warp: 1 } }).code).toBe('UnknownParameter');
    // No blur or teeth stage here: asking for one is refused, not silently ignored.
    expect(failure('FuseFaceUltra', { ...ULTRA, FusionUltraParam: { BlurRadio: 0.3 } })).toMatchObject({ code: 'UnsupportedOperation', message: expect.stringContaining('BlurRadio') });
    expect(failure('FuseFaceUltra', { ...ULTRA, FusionUltraParam: { TeethEnhanceRadio: 1 } })).toMatchObject({ code: 'UnsupportedOperation', message: expect.stringContaining('TeethEnhanceRadio') });
    expect(failure('FuseFaceUltra', { ...ULTRA, FusionUltraParam: 1 }).code).toBe('InvalidParameter');
    // FuseParam is FuseFace's only.
    expect(failure('FuseFaceUltra', { ...ULTRA, FuseParam: {} }).code).toBe('UnknownParameter');
  });
});

describe('activity and material parameters', () => {
  it('CreateMaterial takes base64 text or the bytes of a file part', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff]);
    expect(parse('CreateMaterial', { ActivityId: 'at_1', Image: bytes }).Image).toBe(bytes);
    expect(parse('CreateMaterial', { ActivityId: 'at_1', Image: 'eA==', MaterialName: 'm' })).toMatchObject({ Image: 'eA==', MaterialName: 'm' });
    expect(failure('CreateMaterial', { ActivityId: 'at_1', Image: 12 }).code).toBe('InvalidParameter');
    expect(registry.get('facefusion', 'CreateMaterial')!.upload).toBe(true);
    expect(registry.declarations().filter((d) => d.upload).map((d) => d.name)).toEqual(['CreateMaterial']);
  });

  it('Status, degrees and paging use Tencent\'s codes', () => {
    expect(failure('ModifyActivity', { ActivityId: 'at_1', Status: 'LIVE' }).code).toBe('InvalidParameterValue');
    expect(parse('ModifyActivity', { ActivityId: 'at_1', Status: '' }).Status).toBeUndefined();
    expect(failure('CreateActivity', { ActivityName: 'a', FuseFaceDegree: 101 }).code).toBe('InvalidParameterValue');
    expect(failure('CreateActivity', {}).code).toBe('MissingParameter');
    expect(failure('DescribeMaterialList', { ActivityId: 'at_1', Limit: 21 }).code).toBe('InvalidParameterValue.ParameterValueError');
    expect(failure('DescribeActivities', { Limit: 101 }).code).toBe('InvalidParameterValue');
    expect(parse('DescribeActivities', {})).toEqual({ Limit: 20, Offset: 0 });
    expect(failure('DeleteMaterial', {}).code).toBe('MissingParameter');
  });
});
