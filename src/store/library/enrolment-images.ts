// Enrolment images kept for groups created with KeepEnrolmentImages (docs/API.md): the source
// image of each accepted face, sealed under the AppId's data key (aad image:<AppId>:<FaceId>),
// one object per face, recorded in `blobs` (data_class enrolment_image, owner_ref = FaceId).
// The object is written before the face row and removed again if the row's transaction fails;
// on deletion the rows go first (in the library transaction) and the objects right after.
import type { BlobStore } from '../blobs/blob-store.ts';
import type { FeatureCrypto } from '../keys/feature-crypto.ts';
import type { LibraryWriter } from './library-repo.ts';

export const IMAGE_CLASS = 'enrolment_image';

export interface PendingImage { key: string; faceId: string; size: number }

export class EnrolmentImages {
  constructor(private readonly blobs: BlobStore, private readonly crypto: FeatureCrypto) {}

  static keyOf(appId: number, faceId: string): string {
    return `library/${appId}/faces/${faceId}.sealed`;
  }

  /** Seals and stores the image; nothing is recorded yet (see record()). */
  async put(dataKey: Buffer, appId: number, faceId: string, image: Buffer): Promise<PendingImage> {
    const key = EnrolmentImages.keyOf(appId, faceId);
    const sealed = this.crypto.sealImage(dataKey, appId, faceId, image);
    await this.blobs.put(key, sealed, 'application/octet-stream');
    return { key, faceId, size: sealed.length };
  }

  /** The image of a face, opened (null when it was not kept or its object is gone). */
  async get(dataKey: Buffer, appId: number, faceId: string, key: string): Promise<Buffer | null> {
    const sealed = await this.blobs.get(key);
    return sealed ? this.crypto.openImage(dataKey, appId, faceId, sealed) : null;
  }

  /** Removes objects whose rows were not committed, or whose rows were deleted. */
  async discard(keys: string[]): Promise<void> {
    for (const k of keys) await this.blobs.delete(k);
  }

  /**
   * Runs `write` with the images already stored; removes them when it throws (no face row
   * without its image, no image without its row).
   */
  async withImages<T>(images: PendingImage[], write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      await this.discard(images.map((i) => i.key)).catch(() => {});
      throw e;
    }
  }
}

/** Records stored images in `blobs`, inside the face rows' transaction. */
export async function recordImages(w: LibraryWriter, images: PendingImage[], expiresAt: number | null = null): Promise<void> {
  for (const i of images) await w.insertBlobRecord({ key: i.key, data_class: IMAGE_CLASS, expires_at: expiresAt, size: i.size, content_type: 'application/octet-stream', owner_ref: i.faceId });
}

/** Image keys of the given persons' faces (or of some faces), with their blob rows deleted in the same transaction. */
export async function dropImageRecords(w: LibraryWriter, personIds: string[], faceIds?: string[]): Promise<string[]> {
  const keys = (await w.imageKeys(personIds, faceIds)).map((r) => r.key);
  await w.deleteBlobRecords(keys);
  return keys;
}
