// Shared plumbing of the face-library services (groups, persons, search).
import crypto from 'node:crypto';
import type { Clock } from '../../domain/clock.ts';
import type { EnrolmentPolicy, FaceSource, ScoreScale } from './library-deps.ts';
import type { LibraryRepo, LibraryWriter } from '../../store/library/library-repo.ts';
import type { LibraryIndex } from './library-index.ts';
import type { FeatureCrypto } from '../../store/keys/feature-crypto.ts';
import type { EnrolmentImages } from '../../store/library/enrolment-images.ts';
import { TcError } from '../../domain/errors.ts';
import type { LibraryLimits } from './library-limits.ts';

export interface LibraryContext {
  repo: LibraryRepo;
  index: LibraryIndex;
  crypto: FeatureCrypto;
  clock: Clock;
  faces: FaceSource;
  scale: ScoreScale;
  /** Capacity limits (Tencent's by default). */
  limits: LibraryLimits;
  /** Consent and minimum-age rules for enrolment (absent: no privacy policy applies). */
  privacy?: EnrolmentPolicy;
  /** Kept enrolment images (groups created with KeepEnrolmentImages). */
  images?: EnrolmentImages;
}

/** A write transaction followed by the index catching up, so the reply reflects the write. */
export async function libraryWrite<T>(ctx: LibraryContext, appId: number, fn: (w: LibraryWriter) => Promise<T>): Promise<T> {
  const { result } = await ctx.repo.write(appId, ctx.clock.now(), fn);
  await ctx.index.sync(appId);
  return result;
}

/** Tencent FaceIds are decimal strings of ~19 digits. */
export function newFaceId(): string {
  return (crypto.randomBytes(8).readBigUInt64BE() >> 1n).toString().padStart(19, '1');
}

export const groupNotFound = (groupId: string) => new TcError('InvalidParameterValue.GroupIdNotExist', `GroupId: group "${groupId}" does not exist`);
export const personNotFound = (personId: string) => new TcError('InvalidParameterValue.PersonIdNotExist', `PersonId: person "${personId}" does not exist`);

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
