// Per-AppId privacy policy: consent required on enrolment, a minimum estimated age for enrolment
// and fusion, and the inactivity term after which enrolled persons are purged (BIPA: "purpose
// satisfied or 3 years"). Deployment defaults come from config; SetPrivacyPolicy overrides them
// per AppId. The retention sweeper calls purgeRetiredPersons().
import { dropImageRecords } from '../../store/library/enrolment-images.ts';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { PrivacyRepo } from '../../store/privacy/privacy-repo.ts';
import type { LibraryRepo } from '../../store/library/library-repo.ts';
import type { LibraryIndex } from '../library/library-index.ts';
import type { AuditLog } from '../accounts/audit.ts';
import { auditActor } from '../accounts/audit.ts';
import type { Clock } from '../../domain/clock.ts';
import type { EnrolmentExtras, EnrolmentPolicy } from '../library/library-deps.ts';

const DAY = 24 * 3600_000;
/** A person's last use is written at most once a day (a search must not turn into a write each time). */
const USE_GRANULARITY_MS = DAY;

export interface EffectivePolicy {
  requireConsent: boolean;
  minAge: number; // 0 = no limit
  inactivePersonDays: number; // 0 = never purged for inactivity
  /** Which values this AppId set itself (the rest are the deployment's defaults). */
  own: { requireConsent: boolean; minAge: boolean; inactivePersonDays: boolean };
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface PolicyPatch { requireConsent?: boolean; minAge?: number; inactivePersonDays?: number }

/** Deployment defaults for AppIds without a policy of their own (FACEVAULT_REQUIRE_CONSENT etc.). */
export interface PrivacyDefaults { requireConsent: boolean; minAge: number; inactivePersonDays: number }

/** Where a person's last use is written (the library's persons table, LibraryRepo). */
export type PersonUse = Pick<LibraryRepo, 'noteUse'>;

export class PrivacyService implements EnrolmentPolicy {
  constructor(
    private readonly repo: PrivacyRepo,
    private readonly persons: PersonUse,
    private readonly defaults: PrivacyDefaults,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  async policy(appId: number): Promise<EffectivePolicy> {
    const r = await this.repo.policy(appId);
    return {
      requireConsent: r?.require_consent != null ? r.require_consent === 1 : this.defaults.requireConsent,
      minAge: r?.min_age != null ? Number(r.min_age) : this.defaults.minAge,
      inactivePersonDays: r?.inactive_person_days != null ? Number(r.inactive_person_days) : this.defaults.inactivePersonDays,
      own: { requireConsent: r?.require_consent != null, minAge: r?.min_age != null, inactivePersonDays: r?.inactive_person_days != null },
      updatedAt: r ? Number(r.updated_at) : null,
      updatedBy: r?.updated_by ?? null,
    };
  }

  async setPolicy(caller: Caller, patch: PolicyPatch): Promise<EffectivePolicy> {
    const cur = await this.repo.policy(caller.appId);
    const next = {
      app_id: caller.appId,
      require_consent: patch.requireConsent !== undefined ? (patch.requireConsent ? 1 : 0) : cur?.require_consent ?? null,
      min_age: patch.minAge !== undefined ? patch.minAge : cur?.min_age ?? null,
      inactive_person_days: patch.inactivePersonDays !== undefined ? patch.inactivePersonDays : cur?.inactive_person_days ?? null,
      updated_at: this.clock.now(),
      updated_by: caller.subUin,
    };
    await this.repo.savePolicy(next);
    const eff = await this.policy(caller.appId);
    await this.audit.append({
      actor: auditActor(caller), action: 'privacy.policy', appId: caller.appId, target: String(caller.appId),
      details: { requireConsent: eff.requireConsent, minAge: eff.minAge, inactivePersonDays: eff.inactivePersonDays, changed: Object.keys(patch) },
    });
    return eff;
  }

  // ---- enrolment (EnrolmentPolicy, used by the face library)
  async admit(caller: Caller, extras: EnrolmentExtras, personHasConsent: boolean): Promise<{ minAge: number }> {
    const p = await this.policy(caller.appId);
    if (p.requireConsent && !extras.consent && !personHasConsent) {
      throw new TcError('InvalidParameterValue', 'Consent: this AppId\'s privacy policy requires a consent record on enrolment: Consent {Reference, Purpose, NoticeVersion[, RetentionDays]} (docs/API.md)');
    }
    return { minAge: p.minAge };
  }

  checkAge(age: number | undefined, minAge: number, extras: EnrolmentExtras, field: string): void {
    if (minAge <= 0 || extras.parentalConsent) return;
    if (age === undefined || !Number.isFinite(age)) {
      throw new TcError('FailedOperation', `${field}: this AppId requires a minimum age of ${minAge}, and the face's age could not be estimated (age model not installed, or no usable face); assert verified parental consent with ParentalConsent.Reference to proceed`);
    }
    if (age < minAge) {
      throw new TcError('FailedOperation', `${field}: the face's estimated age (${Math.round(age)}) is under this AppId's minimum age of ${minAge}; the estimate is rough (docs/MODELS.md); assert verified parental consent with ParentalConsent.Reference to proceed`);
    }
  }

  /** The minimum age fusion applies to user faces (0 = none). */
  async minAge(appId: number): Promise<number> {
    return (await this.policy(appId)).minAge;
  }

  /** Records that a person was recognised (search/verify hit): it counts as use for the inactivity purge. */
  async noteUse(appId: number, personId: string | undefined): Promise<void> {
    if (!personId) return;
    await this.persons.noteUse(appId, personId, this.clock.now(), USE_GRANULARITY_MS);
  }
}

/**
 * For the retention sweeper: deletes persons whose consented retention term (Consent.RetentionDays)
 * has ended, and persons not used (enrolled, changed or recognised) for the AppId's
 * inactivePersonDays. Goes through the library's write path, so every process's search index
 * drops them. Returns how many persons were deleted per AppId.
 */
export async function purgeRetiredPersons(deps: {
  privacy: PrivacyService; library: { repo: LibraryRepo; index: LibraryIndex; images?: { discard(keys: string[]): Promise<void> } }; clock: Clock; audit: AuditLog;
}): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const now = deps.clock.now();
  for (const appId of await deps.library.repo.appsWithPersons()) {
    const p = await deps.privacy.policy(appId);
    const unusedBefore = p.inactivePersonDays > 0 ? now - p.inactivePersonDays * DAY : null;
    let n = 0;
    for (;;) {
      const ids = await deps.library.repo.purgeablePersons(appId, now, unusedBefore);
      if (!ids.length) break;
      // Kept enrolment images (KeepEnrolmentImages groups) go with their persons.
      const { result: images } = await deps.library.repo.write(appId, now, async (w) => {
        const keys = await dropImageRecords(w, ids);
        for (const id of ids) await w.deletePerson(id);
        return keys;
      });
      await deps.library.index.sync(appId);
      if (images.length) await deps.library.images?.discard(images);
      n += ids.length;
    }
    if (n) {
      out.set(appId, n);
      await deps.audit.append({ actor: 'system', action: 'privacy.purge_persons', appId, details: { persons: n, inactivePersonDays: p.inactivePersonDays } });
    }
  }
  return out;
}
