// Tencent's library capacity limits (iai docs "capacity"): per AppId 100,000 groups and
// 50,000,000 faces; per group 3,000,000 faces (FaceModelVersion 3.0; 1,000,000 for 2.0); a person
// in at most 100 groups. Overridable (tests use small numbers; an operator may want lower ones).
import { TcError } from '../../domain/errors.ts';
import type { LibraryIndex } from './library-index.ts';
import type { LibraryReader } from '../../store/library/library-repo.ts';

export interface LibraryLimits {
  groupsPerApp: number;
  facesPerApp: number;
  facesPerGroup: number;
  groupsPerPerson: number;
}

export const TENCENT_LIMITS: LibraryLimits = { groupsPerApp: 100_000, facesPerApp: 50_000_000, facesPerGroup: 3_000_000, groupsPerPerson: 100 };

/**
 * Refuses adding `add` faces to each of `groupIds` (and `addToApp` to the AppId) past the limits.
 * Group sizes come from the search index (synced by the caller), not a COUNT over millions of rows;
 * concurrent enrolments can therefore overshoot a limit by the few in flight. The AppId total is
 * counted in the database only when the index's upper bound (persons in several groups count
 * once per group there) is past the limit.
 */
export async function checkFaceCapacity(limits: LibraryLimits, index: LibraryIndex, r: LibraryReader, groupIds: string[], add: number, addToApp: number): Promise<void> {
  let upper = 0;
  for (const g of index.groupsOf(r.appId)) upper += g.faces.size;
  for (const id of groupIds) {
    const n = index.group(r.appId, id)?.faces.size ?? 0;
    if (n + add > limits.facesPerGroup) {
      throw new TcError('InvalidParameterValue.GroupFaceNumExceed', `group "${id}" holds ${n} faces; adding ${add} would pass its limit of ${limits.facesPerGroup}`);
    }
  }
  if (addToApp > 0 && upper + addToApp > limits.facesPerApp) {
    const n = await r.countFaces();
    if (n + addToApp > limits.facesPerApp) {
      throw new TcError('InvalidParameterValue.AccountFaceNumExceed', `this AppId holds ${n} faces; adding ${addToApp} would pass its limit of ${limits.facesPerApp}`);
    }
  }
}
