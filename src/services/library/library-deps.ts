// What the face-library services need from the vision side, as narrow interfaces so the library
// does not depend on how images are decoded or where inference runs (composition in app.ts).
import type { Caller } from '../../domain/call.ts';

export interface FaceRect { X: number; Y: number; Width: number; Height: number }

export interface LibraryFace {
  rect: FaceRect;
  embedding: Float32Array; // 512-d, L2-normalised
  /** 0-100 when the quality task is installed; undefined otherwise (QualityControl then passes). */
  quality?: number;
  /** Estimated age in years, only when asked for (`attributes`) and the age model is installed. */
  age?: number;
}

export interface ImageInput {
  Image?: unknown;
  Url?: unknown;
  /** NeedRotateDetection: also look for faces in the image turned by 90/180/270° (photos without EXIF). */
  rotate?: boolean;
}

export interface FaceSource {
  /**
   * Decodes Image/Url (Url wins) under Tencent's limits and returns the faces, largest first,
   * each with its embedding. Throws TcError for unusable input (decode, size, download).
   * `imageField`/`urlField` name the request fields in error messages.
   */
  faces(caller: Caller, input: ImageInput, opts: {
    maxFaces: number; minFaceSize?: number; quality?: boolean; modelVersion: string; imageField?: string; urlField?: string;
    /** Also estimate age (privacy policy's minimum age). */
    attributes?: boolean;
  }): Promise<{ width: number; height: number; faces: LibraryFace[]; image?: Buffer }>;
  /** Model versions whose embeddings this deployment can compute. */
  modelVersions(): string[];
}

/** Cosine <-> Tencent's 0-100 Score, one scale for CompareFace, Verify* and Search*. */
export interface ScoreScale {
  score(cosine: number): number;
  /** The cosine at which `score` is reached (for thresholds). */
  cosine(score: number): number;
}

/** Tencent's QualityControl levels as minimum quality scores (its bands: 40 fair, 60 good, 80 very good). */
export const QUALITY_MIN: Record<number, number> = { 0: 0, 1: 25, 2: 40, 3: 60, 4: 80 };

/** UniquePersonControl 1-4 = FAR 1e-2..1e-5; on the calibrated scale 40/50/60 = FAR 1e-3/1e-4/1e-5, 10 points a decade. */
export const UNIQUE_PERSON_SCORE: Record<number, number> = { 1: 30, 2: 40, 3: 50, 4: 60 };

/** Enrolment extension fields (docs/API.md "Privacy fields"). */
export interface ConsentInput { reference: string; purpose: string; noticeVersion: string; retentionDays?: number }
export interface EnrolmentExtras {
  /** The customer's identifier of the data subject, for deletion requests by end user. */
  endUserId?: string;
  consent?: ConsentInput;
  /** Reference of verified parental consent: lets a face estimated under the minimum age enrol. */
  parentalConsent?: string;
}

/** The AppId's privacy policy as enrolment applies it (services/privacy/privacy.ts builds it). */
export interface EnrolmentPolicy {
  /** Before any image work: refuses a missing consent; returns the minimum age (0 = none). */
  admit(caller: Caller, extras: EnrolmentExtras, personHasConsent: boolean): Promise<{ minAge: number }>;
  /** Refuses a face estimated under `minAge` unless parental consent is asserted. */
  checkAge(age: number | undefined, minAge: number, extras: EnrolmentExtras, field: string): void;
  /** A recognised person counts as used (the inactivity purge, docs/PRIVACY.md). */
  noteUse(appId: number, personId: string | undefined): Promise<void>;
}
