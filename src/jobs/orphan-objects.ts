// Objects without a row. Writers put an object first and then commit the row naming it (so no
// row ever names a missing object); a process killed between the two leaves an object that no
// row names and that no deletion or expiry would ever reach. The sweep deletes such objects
// once they are older than a grace period, longer than any put-to-commit gap (the commit's
// queries have a deadline of seconds). Only under prefixes whose every object has a `blobs`
// record: library/ (kept enrolment images), fusion/ (image and video materials, their tracks,
// image results) and video/ (video jobs' inputs and results).
import type { BlobStore } from '../store/blobs/blob-store.ts';
import type { BlobRecords } from '../store/blobs/blob-records.ts';

export const ORPHAN_PREFIXES = ['library/', 'fusion/', 'video/'];

export async function sweepOrphanObjects(blobs: BlobStore, records: Pick<BlobRecords, 'recorded'>, now: number, graceMs: number): Promise<number> {
  if (!blobs.listModified) return 0;
  let deleted = 0;
  for (const prefix of ORPHAN_PREFIXES) {
    const old = (await blobs.listModified(prefix)).filter((o) => now - o.modifiedAt > graceMs).map((o) => o.key);
    for (let i = 0; i < old.length; i += 500) {
      const batch = old.slice(i, i + 500);
      const known = await records.recorded(batch);
      for (const key of batch) {
        if (known.has(key)) continue;
        await blobs.delete(key);
        deleted++;
      }
    }
  }
  return deleted;
}
