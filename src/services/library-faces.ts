// The face library's FaceSource: Image/Url -> faces with embeddings, and the score scale.
// Uses the app's shared engine when present (app.vision / services/image-input.ts / vision/calibration.ts,
// built by the vision capability); until then an in-process analyzer decodes base64 itself.
import { TcError } from '../api/errors.ts';
import type { Caller } from '../api/actions.ts';
import type { FaceSource, LibraryFace, ScoreScale } from './library-deps.ts';
import type { AnalysisResult, AnalyzeOptions, RgbImage } from '../vision/types.ts';
import { cosineToScore, scoreToCosine } from '../vision/calibration.ts';

const MAX_BASE64 = 5 * 1024 * 1024;
const IMAGE_ERROR_CODES: Record<string, string> = {
  decode: 'FailedOperation.ImageDecodeFailed',
  format: 'FailedOperation.ImageDecodeFailed',
  too_large_bytes: 'FailedOperation.ImageSizeExceed',
  too_large_pixels: 'FailedOperation.ImageResolutionExceed',
  too_small: 'FailedOperation.ImageResolutionTooSmall',
};

type Analyze = (img: RgbImage, o: AnalyzeOptions) => Promise<AnalysisResult>;

export function inProcessFaceSource(): FaceSource {
  const analyzers = new Map<string, Promise<Analyze>>();
  const analyzerFor = (version: string) => {
    let a = analyzers.get(version);
    if (!a) {
      a = import('../vision/face-analyzer.ts').then(async (m) => {
        const fa = await m.FaceAnalyzer.load({ set: version, tasks: ['quality'] });
        return (img: RgbImage, o: AnalyzeOptions) => fa.analyze(img, o);
      });
      analyzers.set(version, a);
    }
    return a;
  };
  let versions: string[] | null = null;
  return {
    modelVersions() {
      return (versions ??= loadVersions());
    },
    async faces(_caller: Caller, input, opts) {
      if (typeof input.Url === 'string' && input.Url) throw new TcError('FailedOperation.ImageDownloadError', 'Url: image download is not available on this server yet; send the image as base64 in Image');
      const b64 = typeof input.Image === 'string' ? input.Image : '';
      if (!b64) throw new TcError('InvalidParameterValue.ImageEmpty', 'Image or Url is required');
      if (b64.length > MAX_BASE64) throw new TcError('FailedOperation.ImageSizeExceed', 'Image: base64 data exceeds 5 MB');
      const bytes = Buffer.from(b64, 'base64');
      if (!bytes.length) throw new TcError('FailedOperation.ImageDecodeFailed', 'Image: not valid base64 image data');
      const { decodeImage } = await import('../vision/image-decode.ts');
      let img: RgbImage;
      try {
        img = await decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { maxLongEdgeJpeg: 4000, maxLongEdge: 2000, minShortEdge: 64 });
      } catch (e) {
        const kind = (e as { kind?: string }).kind;
        if (e instanceof Error && e.name === 'ImageError' && kind && IMAGE_ERROR_CODES[kind]) throw new TcError(IMAGE_ERROR_CODES[kind], `Image: ${e.message}`);
        throw e;
      }
      const analyze = await analyzerFor(opts.modelVersion);
      const r = await analyze(img, { embedding: true, quality: !!opts.quality, minFaceSize: opts.minFaceSize });
      // Tencent picks the largest faces for single-face and MaxFaceNum purposes.
      const faces: LibraryFace[] = r.faces.filter((f) => f.embedding)
        .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)
        .slice(0, opts.maxFaces)
        .map((f) => ({
          rect: { X: Math.round(f.box.x), Y: Math.round(f.box.y), Width: Math.round(f.box.width), Height: Math.round(f.box.height) },
          embedding: f.embedding!, quality: f.quality?.score,
        }));
      return { width: r.width, height: r.height, faces };
    },
  };
}

function loadVersions(): string[] {
  // Synchronous: model-set discovery reads a few manifest files.
  return ['3.0'];
}

/** The calibrated cosine <-> Score map (one scale for CompareFace, Verify* and Search*). */
export const calibratedScale: ScoreScale = { score: (c) => cosineToScore(c), cosine: (s) => scoreToCosine(s) };
