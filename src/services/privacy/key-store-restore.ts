// After the start-up key move (store/keys/key-store-migrate.ts): a tenant that a restored database
// brought back, though its key was erased, is closed and erased again before the server takes
// its first request. Its features could not be opened anyway (no key); this removes the
// plain-text rows too (names, ids, logs) and leaves a receipt like any AppId erasure.
import type { KeyMigrationReport } from '../../store/keys/key-store-migrate.ts';
import type { PrivacyModule } from './privacy-module.ts';

export async function reEraseRestoredApps(d: { privacy: Pick<PrivacyModule, 'deletions'>; keyStoreKind: string; note(message: string): void }, report: KeyMigrationReport): Promise<void> {
  const note = d.note;
  for (const appId of report.missing) note(`AppId ${appId} has no data key in the key store (${d.keyStoreKind}); its features cannot be opened until the key store that holds it is configured`);
  for (const appId of report.conflicts) note(`AppId ${appId}: the database held a data key different from the key store's; the key store's is kept`);
  for (const appId of report.erased) {
    // Its keys stop working first, whatever happens to the rest.
    await d.privacy.deletions.closeApp(appId);
    try {
      const r = await d.privacy.deletions.create({ appId, uin: 'system', subUin: 'system' }, { kind: 'app' });
      note(`AppId ${appId} was erased (key store tombstone) but a restored database brought its rows back; erased again, receipt ${r.RequestId}`);
    } catch (e) {
      // The request row stays running: privacy.resume() and every later start finish it.
      note(`AppId ${appId} was erased but a restored database brought its rows back; erasing them again failed (retried): ${(e as Error).message}`);
    }
  }
}
