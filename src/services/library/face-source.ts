// The face library's FaceSource (services/library/library-deps.ts) on top of app.vision: Tencent image
// input (Image/Url, SSRF-safe), decoding and inference in the worker pool, largest faces first.
import type { Caller } from '../../domain/call.ts';
import type { FaceSource, LibraryFace } from './library-deps.ts';
import type { VisionEngine } from '../media/vision-engine.ts';
import { imageErrorToTc, readImageInput, TENCENT_IMAGE_LIMITS } from '../media/image-input.ts';

export function visionFaceSource(vision: VisionEngine): FaceSource {
  return {
    modelVersions: () => vision.modelVersions(),
    async faces(_caller: Caller, input, opts) {
      const fields = { image: opts.imageField ?? 'Image', url: opts.urlField ?? 'Url' };
      const src = await readImageInput({ [fields.image]: input.Image, [fields.url]: input.Url }, vision.urlPolicy, fields);
      let r;
      try {
        r = await vision.analyze(src.bytes, {
          embedding: true, singleFace: opts.maxFaces === 1, quality: !!opts.quality, ...(input.rotate ? { tryRotations: true } : {}), ...(opts.attributes ? { attributes: true, attributeKinds: ['age' as const] } : {}), minFaceSize: opts.minFaceSize, modelVersion: opts.modelVersion, limits: TENCENT_IMAGE_LIMITS,
        });
      } catch (e) {
        throw imageErrorToTc(e, src.from === 'url' ? fields.url : fields.image);
      }
      const faces: LibraryFace[] = r.faces
        .filter((f) => f.embedding)
        .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)
        .slice(0, opts.maxFaces)
        .map((f) => ({
          rect: { X: Math.round(f.box.x), Y: Math.round(f.box.y), Width: Math.round(f.box.width), Height: Math.round(f.box.height) },
          embedding: f.embedding!,
          quality: f.quality?.score,
          ...(opts.attributes ? { age: f.attributes?.age } : {}),
        }));
      return { width: r.width, height: r.height, faces, image: src.bytes };
    },
  };
}
