// What video fusion needs from the vision engine: faces (box, mesh, embedding) in a decoded
// frame for the tracking pass, and a user photo's face cropped with its mesh for fusion.
import { TcError } from '../../domain/errors.ts';
import type { Box, RgbImage } from '../../vision/types.ts';
import type { FrameDetection, FrameDetector } from '../../vision/video/index.ts';
import { cropFaceWindow } from '../../vision/fusion/face-window.ts';
import type { Raster } from '../../vision/fusion/warp.ts';
import { pickFace } from '../../vision/face-pick.ts';
import { mapImageError, meshArray } from '../fusion/fusion-materials.ts';
import type { FaceFinder } from '../fusion/fusion-vision.ts';

/**
 * How a user face is fused into a video: the user's features (appearance 0) and the user's shape
 * (profile 0), so the identity carries; the template's pose comes from its tracked mesh and its
 * expression from the per-region degree the pipeline adds (the mouth opens and the eyes move as
 * the template's: VIDEO_REGIONS). Profile 0.3 without the regions (before) kept some lip movement
 * at the cost of identity (docs/MODELS.md). The jobs, `facevault fuse-video` and `bench video`
 * all use these.
 */
export const VIDEO_FUSE_DEGREES = { profile: 0, appearance: 0 } as const;

/** Tencent (vclm): the user's face box must be at least 68 px. */
export const VIDEO_MIN_USER_FACE = 68;

export interface UserFace { user: Raster; userMesh: Float64Array; embedding: Float32Array | null }

/** Detection + 468-point mesh + embedding of every face in a frame (shared inference pool). */
export function frameDetector(finder: FaceFinder, embedEvery = 10): FrameDetector {
  // Measured on 640x360 (2 inference threads): detection + mesh 166 ms a frame, + 5-point
  // landmarks and embedding ≈ 240-270 ms; the embedding (identity for TemplateFaceImage and a
  // tie-breaker for association) is taken on every `embedEvery`-th frame only.
  return async (frame: RgbImage, index: number): Promise<FrameDetection[]> => {
    const withEmb = index % embedEvery === 0;
    const r = await finder.analyze(frame, { mesh: true, meshIris: false, landmarks: withEmb, embedding: withEmb, minFaceSize: 20 });
    return r.faces.map((f) => ({
      box: f.box, score: f.score,
      mesh: f.mesh && f.mesh.length >= 468 ? Float32Array.from(meshArray(f.mesh)) : null,
      embedding: f.embedding,
    }));
  };
}

/** The user's face in a photo (largest, or the one in `rect`), cropped around it, with its mesh. */
export async function userFace(finder: FaceFinder, bytes: Uint8Array, field: string, rect?: Box, minFace = VIDEO_MIN_USER_FACE): Promise<UserFace> {
  let analysed;
  try {
    analysed = await finder.analyze(bytes, { limits: { maxLongEdgeJpeg: 4096, maxLongEdge: 4096, minShortEdge: 64 }, returnImage: true, mesh: true, meshIris: false, embedding: true, enrichPick: { rect } });
  } catch (e) { mapImageError(e, field); }
  const img: RgbImage = analysed.image!;
  if (!analysed.faces.length) throw new TcError('InvalidParameterValue.NoFaceInPhoto', `${field}: no face was found in the image`);
  const face = pickFace(analysed.faces, { rect });
  if (!face) throw new TcError('InvalidParameterValue.NoFaceInPhoto', `${field}: no face lies in the given rectangle`);
  if (face.box.width < minFace || face.box.height < minFace) {
    throw new TcError('FailedOperation.FaceSizeTooSmall', `${field}: the face is ${Math.round(face.box.width)}x${Math.round(face.box.height)} pixels; it must be at least ${minFace}x${minFace}`);
  }
  if (!face.mesh || face.mesh.length < 468) throw new TcError('InvalidParameterValue.NoFaceInPhoto', `${field}: the face could not be measured (too turned, covered or blurred)`);
  const mesh = meshArray(face.mesh);
  // Only the window around the face is kept (and travels to the fusion workers, in shared memory).
  const user = cropFaceWindow(img, mesh, true);
  return { user, userMesh: mesh, embedding: face.embedding ?? null };
}

