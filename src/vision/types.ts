// The engine's vocabulary. Nothing here knows about HTTP, tenants or Tencent field names;
// services translate. Coordinates are pixels in the (EXIF-rotated) input image.

export interface Point { x: number; y: number }
export interface Box { x: number; y: number; width: number; height: number }

/** A decoded image: tightly packed 8-bit RGB, rows top to bottom. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer; // width * height * 3
}

export interface FaceQuality {
  score: number; // 0-100
  sharpness: number; // 0-100
  brightness: number; // 0-100
  completeness: { eyebrow: number; eye: number; nose: number; cheek: number; mouth: number; chin: number }; // 0-100 each
}

export interface FaceAttributes {
  age?: number;
  gender?: { male: number }; // probability the face is male, 0-1
  expression?: { label: 'angry' | 'disgusted' | 'fearful' | 'happy' | 'neutral' | 'sad' | 'surprised'; probability: number; probabilities: Record<string, number> };
  pose?: { yaw: number; pitch: number; roll: number }; // degrees
  eyesOpen?: { left: number; right: number }; // probability 0-1
  liveness?: number; // fr_liveness class 0 (shipped; NOT shown to reject spoofs: docs/MODELS.md), 0-1
  /** P(live) from the operator's anti-spoofing model (FACEVAULT_LIVENESS_MODEL), 0-1. */
  antiSpoofLive?: number;
}

/** One face, enriched in place by each task model (InsightFace's Face record). */
export interface Face {
  box: Box;
  score: number; // detector confidence 0-1
  /** left eye, right eye, nose tip, left mouth corner, right mouth corner (image left/right). */
  kps: Point[];
  landmarks68?: Point[];
  /** 468-point face mesh (+10 iris points when available), image coordinates. */
  mesh?: Point[];
  /** Depth of each mesh point, pixels, relative to the face centre (larger = further). */
  meshZ?: number[];
  embedding?: Float32Array; // L2-normalised
  /** Set when the face was found only after turning the image clockwise by this many degrees. */
  rotation?: 90 | 180 | 270;
  quality?: FaceQuality;
  attributes?: FaceAttributes;
}

export type AttributeKind = 'age' | 'gender' | 'expression' | 'eye';

export interface AnalyzeOptions {
  maxFaces?: number; // keep the best N faces by detector score (default all)
  minFaceSize?: number; // drop faces whose box is smaller (pixels, default 0)
  landmarks?: boolean;
  embedding?: boolean;
  mesh?: boolean;
  quality?: boolean;
  attributes?: boolean;
  /** With `attributes`: only these attribute models run (default all). Head pose needs none of
   *  them (it comes from the mesh); gender (faceres) is the costly one. */
  attributeKinds?: AttributeKind[];
  liveness?: boolean;
  /** Unless a sure upright face is found, also try the image turned by 90°, 270° and 180° (Tencent's
   *  NeedRotateDetection, for images whose EXIF orientation is missing). Coordinates stay in the
   *  input image's frame; the box is the upright box's bounding rectangle there. */
  tryRotations?: boolean;
  /** Run the optional tasks (mesh, quality, attributes, liveness) on the N largest faces only
   *  (Tencent: attributes for 5, quality for 30); the others get detection, landmarks, embedding. */
  enrichLargest?: number;
  /** Run the optional tasks on the one face the caller will use (see face-pick.ts: the face `rect`
   *  picks, else the largest); the others get detection and landmarks only. Wins over enrichLargest. */
  enrichPick?: { rect?: Box };
  /** Mesh without the 10 iris points (two extra model runs) when the caller uses the 468 only. Default true. */
  meshIris?: boolean;
  /** The caller uses one face (the best or the largest): a confident face in the whole-frame pass
   *  ends detection there, without the tile pyramid (detector.ts `single`). */
  singleFace?: boolean;
  /** Detector score threshold override (default from the model set's manifest). */
  scoreThreshold?: number;
}

export interface AnalysisResult {
  width: number;
  height: number;
  faces: Face[]; // sorted by detector score, best first
}

/** Why an image was refused; services map these to Tencent's codes. */
export type ImageErrorKind = 'decode' | 'format' | 'too_large_bytes' | 'too_large_pixels' | 'too_small' | 'timeout';

export class ImageError extends Error {
  constructor(readonly kind: ImageErrorKind, message: string) {
    super(message);
    this.name = 'ImageError';
  }
}
