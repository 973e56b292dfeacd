// Tencent's landmark layouts built from the MediaPipe 468-point mesh (+ iris). "Left"/"Right"
// are the image's left and right (the subject's right eye is LeftEye), as in our Face.kps.
// Iris points: 468 = image-left pupil centre (468-472 its ring), 473 = image-right (473-477).
// The index table is documented in docs/API.md.
import type { Point } from '../../vision/types.ts';

/** AnalyzeFace FaceShape: 90 points. */
export const FACE_SHAPE_90 = {
  // image-left ear level -> chin (152) -> image-right ear level
  FaceProfile: [127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323],
  // outer corner, upper lid ×3, inner corner, lower lid ×3
  LeftEye: [33, 160, 159, 158, 133, 153, 145, 144],
  RightEye: [263, 387, 386, 385, 362, 380, 374, 373],
  // lower edge outer -> inner, upper edge inner -> outer
  LeftEyeBrow: [46, 53, 52, 65, 107, 66, 105, 63],
  RightEyeBrow: [276, 283, 282, 295, 336, 296, 334, 293],
  // 12 outer lip points from the image-left corner, then 10 inner lip points
  Mouth: [61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91, 78, 80, 82, 13, 312, 310, 308, 318, 14, 88],
  // bridge top -> tip -> base, wings
  Nose: [168, 6, 197, 195, 5, 4, 1, 19, 2, 98, 327, 129, 358],
  LeftPupil: [468],
  RightPupil: [473],
} as const;

/** AnalyzeDenseLandmarks DenseFaceShape (Tencent leaves the counts open: "XX points"). */
export const DENSE_FACE_SHAPE = {
  LeftEye: [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7],
  RightEye: [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249],
  LeftEyeBrow: [156, 70, 63, 105, 66, 107, 55, 193, 65, 52, 53, 46, 124, 35],
  RightEyeBrow: [383, 300, 293, 334, 296, 336, 285, 417, 295, 282, 283, 276, 353, 265],
  // "from the left, counter-clockwise" on screen: along the lower lip first, back along the upper
  MouthOutside: [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185],
  MouthInside: [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191],
  Nose: [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 64, 294, 48, 278, 129, 358, 102, 331],
  LeftPupil: [468, 469, 470, 471, 472],
  RightPupil: [473, 474, 475, 476, 477],
  CentralAxis: [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 11, 12, 13, 14, 15, 16, 17, 18, 200, 199, 175, 152],
  Chin: [172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397],
  LeftEyeBags: [130, 25, 110, 24, 23, 22, 26, 112, 243, 226, 31, 228, 229, 230, 231, 232, 233, 244],
  RightEyeBags: [359, 255, 339, 254, 253, 252, 256, 341, 463, 446, 261, 448, 449, 450, 451, 452, 453, 464],
  Forehead: [54, 103, 67, 109, 10, 338, 297, 332, 284, 21, 71, 68, 104, 69, 108, 151, 337, 299, 333, 298, 301, 251],
} as const;

export function pick(mesh: Point[], idx: readonly number[]): { X: number; Y: number }[] {
  return idx.map((i) => {
    const p = mesh[i] ?? pupilFallback(mesh, i);
    return { X: Math.round(p.x), Y: Math.round(p.y) };
  });
}

/** Without iris points (iris model off), a pupil is the centre of its eye contour. */
function pupilFallback(mesh: Point[], i: number): Point {
  const eye = i < 473 ? FACE_SHAPE_90.LeftEye : FACE_SHAPE_90.RightEye;
  return { x: eye.reduce((s, j) => s + mesh[j].x, 0) / eye.length, y: eye.reduce((s, j) => s + mesh[j].y, 0) / eye.length };
}
