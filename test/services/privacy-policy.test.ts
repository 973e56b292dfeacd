// PrivacyService: each AppId's policy (consent, minimum age) admits or refuses enrolment, and
// one tenant's policy never applies to another. Real privacy and library repositories on
// SQLite, a fake face source whose faces carry a fixed estimated age; no HTTP, no models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/domain/call.ts';
import { PrivacyService } from '../../src/services/privacy/privacy.ts';
import type { FaceSource } from '../../src/services/library/library-deps.ts';
import { PrivacyRepo } from '../../src/store/privacy/privacy-repo.ts';
import { code, fakeFaces, library, newGroup, newPerson, openFixture, type Fixture, type Library } from './fixture.ts';

const CONSENT = { reference: 'form-1', purpose: 'door access', noticeVersion: 'v1' };
const DAY = 24 * 3600_000;

/** Faces named "child…" are estimated at 12, "ageless…" have no estimate, the rest at 30. */
const agedFaces: FaceSource = {
  modelVersions: () => ['3.0'],
  async faces(caller, input, opts) {
    const r = await fakeFaces.faces(caller, input, opts);
    const name = String(input.Image);
    const age = name.startsWith('child') ? 12 : name.startsWith('ageless') ? undefined : 30;
    return { ...r, faces: r.faces.map((f) => ({ ...f, age })) };
  },
};

describe('PrivacyService policy', () => {
  let fx: Fixture;
  let privacy: PrivacyService;
  let L: Library;
  const used: [number, string, number][] = [];
  let A: Caller, B: Caller;

  beforeAll(async () => {
    fx = await openFixture();
    // The person-use store is faked: the spec checks what the policy asks it to record.
    const persons = { noteUse: async (appId: number, personId: string, _now: number, gap: number) => { used.push([appId, personId, gap]); } };
    privacy = new PrivacyService(new PrivacyRepo(fx.db), persons, { requireConsent: false, minAge: 0, inactivePersonDays: 0 }, fx.clock, fx.audit);
    L = library(fx, { privacy, faces: agedFaces });
    A = await fx.tenant(1);
    B = await fx.tenant(2);
    await privacy.setPolicy(A, { requireConsent: true, minAge: 16 });
    await newGroup(L, A, 'g');
    await newGroup(L, B, 'g');
  });
  afterAll(async () => fx?.close());

  it('a tenant\'s policy is its own: the other keeps the deployment defaults', async () => {
    expect(await privacy.policy(A.appId)).toMatchObject({ requireConsent: true, minAge: 16, own: { requireConsent: true, minAge: true, inactivePersonDays: false } });
    expect(await privacy.policy(B.appId)).toMatchObject({ requireConsent: false, minAge: 0, own: { requireConsent: false, minAge: false } });
    expect(await privacy.minAge(B.appId)).toBe(0);
  });

  it('admit: consent required means a consent record, or one the person already has', async () => {
    expect(await code(privacy.admit(A, {}, false))).toBe('InvalidParameterValue');
    expect(await privacy.admit(A, { consent: CONSENT }, false)).toEqual({ minAge: 16 });
    expect(await privacy.admit(A, {}, true)).toEqual({ minAge: 16 });
    expect(await privacy.admit(B, {}, false)).toEqual({ minAge: 0 });
  });

  it('checkAge: under the minimum or without an estimate is refused unless parental consent is asserted', () => {
    const check = (age: number | undefined, minAge: number, parental?: string) => {
      try { privacy.checkAge(age, minAge, parental ? { parentalConsent: parental } : {}, 'Image'); return 'OK'; } catch (e) { return (e as { code: string }).code; }
    };
    expect(check(12, 16)).toBe('FailedOperation');
    expect(check(undefined, 16)).toBe('FailedOperation');
    expect(check(16, 16)).toBe('OK');
    expect(check(12, 16, 'parent-form-7')).toBe('OK');
    expect(check(undefined, 0)).toBe('OK');
  });

  it('enrolment applies the caller\'s policy: refused under A\'s, admitted under B\'s, nothing written when refused', async () => {
    expect(await code(newPerson(L, A, 'g', 'no-consent', 'adult-1'))).toBe('InvalidParameterValue');
    expect(await code(newPerson(L, A, 'g', 'minor', 'child-1', { consent: CONSENT }))).toBe('FailedOperation');
    expect(await code(newPerson(L, A, 'g', 'unknown-age', 'ageless-1', { consent: CONSENT }))).toBe('FailedOperation');
    for (const id of ['no-consent', 'minor', 'unknown-age']) expect(await code(L.persons.baseInfo(A, id))).toBe('InvalidParameterValue.PersonIdNotExist');
    expect(await code(newPerson(L, A, 'g', 'adult', 'adult-1', { consent: CONSENT }))).toBe('OK');
    expect(await code(newPerson(L, A, 'g', 'minor-ok', 'child-2', { consent: CONSENT, parentalConsent: 'parent-form-7' }))).toBe('OK');
    // B has no policy: the same inputs enrol without consent or age checks.
    expect(await code(newPerson(L, B, 'g', 'no-consent', 'adult-1'))).toBe('OK');
    expect(await code(newPerson(L, B, 'g', 'minor', 'child-1'))).toBe('OK');
  });

  it('a policy change is the caller\'s: B relaxing its policy does not relax A\'s', async () => {
    await privacy.setPolicy(B, { requireConsent: false, minAge: 0 });
    expect(await code(newPerson(L, A, 'g', 'still-refused', 'adult-2'))).toBe('InvalidParameterValue');
    await privacy.setPolicy(A, { requireConsent: false });
    expect(await code(newPerson(L, A, 'g', 'now-admitted', 'adult-2'))).toBe('OK');
    expect(await code(newPerson(L, A, 'g', 'minor-2', 'child-3'))).toBe('FailedOperation'); // minAge 16 kept
  });

  it('a recognised person is recorded as used, under its own AppId, at most once a day', async () => {
    used.length = 0;
    await L.search.verifyPerson(A, 'adult', { Image: 'adult-1' }, 0);
    await privacy.noteUse(B.appId, undefined);
    expect(used).toEqual([[A.appId, 'adult', DAY]]);
  });
});
