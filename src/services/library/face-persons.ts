// iai persons and faces: CreatePerson, DeletePerson, DeletePersonFromGroup, CopyPerson, GetPersonList,
// GetPersonBaseInfo, GetPersonGroupInfo, ModifyPersonBaseInfo, ModifyPersonGroupInfo, CreateFace, DeleteFace.
import crypto from 'node:crypto';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import { combine } from '../../store/keys/feature-crypto.ts';
import type { GroupRow, LibraryWriter } from '../../store/library/library-repo.ts';
import { QUALITY_MIN, UNIQUE_PERSON_SCORE, type EnrolmentExtras, type FaceRect, type ImageInput, type LibraryFace } from './library-deps.ts';
import { checkFaceCapacity } from './library-limits.ts';
import { groupNotFound, libraryWrite, newFaceId, personNotFound, type LibraryContext } from './library-context.ts';
import { dropImageRecords, recordImages, type PendingImage } from '../../store/library/enrolment-images.ts';

export const MAX_FACES_PER_PERSON = 5;
export const MAX_FACES_PER_CALL = 4;

export interface ExInfo { index: number; value: string }
export interface CreatePersonInput {
  groupId: string; personId: string; personName: string; gender: number; exInfos: ExInfo[];
  image: ImageInput; uniquePersonControl: number; qualityControl: number;
  /** Privacy extension fields: EndUserId, Consent, ParentalConsent. */
  extras?: EnrolmentExtras;
}

const DAY_MS = 24 * 3600_000;
const newConsentId = () => crypto.randomUUID();

/** CreateFace RetCode values (Tencent's). */
const RET = { ok: 0, noFace: -1101, decode: -1102, size: -1109, quality: -1601, mismatch: -1604 } as const;

function applyExInfos(group: GroupRow, current: string[], infos: ExInfo[]): string[] {
  const fields = (JSON.parse(group.ex_descriptions) as string[]).length;
  const out = Array.from({ length: fields }, (_, i) => current[i] ?? '');
  for (const d of infos) {
    if (d.index >= fields) {
      throw new TcError('InvalidParameterValue.PersonExDescriptionInfosExceed', `PersonExDescriptionInfos.PersonExDescriptionIndex: ${d.index} is not a description field of group "${group.group_id}", which has ${fields}`);
    }
    out[d.index] = d.value;
  }
  return out;
}

export class PersonsService {
  constructor(private readonly ctx: LibraryContext) {}

  /** Detects the largest face of the image and applies QualityControl. */
  private async oneFace(caller: Caller, image: ImageInput, version: string, qualityControl: number, age = false): Promise<LibraryFace & { image?: Buffer }> {
    const r = await this.ctx.faces.faces(caller, image, { maxFaces: 1, quality: qualityControl > 0, modelVersion: version, ...(age ? { attributes: true } : {}) });
    const face = r.faces[0];
    if (!face) throw new TcError('InvalidParameterValue.NoFaceInPhoto', 'Image/Url: no face was found in the image');
    if (qualityControl > 0 && face.quality !== undefined && face.quality < QUALITY_MIN[qualityControl]) {
      throw new TcError('FailedOperation.FaceQualityNotQualified', `the face's quality score ${Math.round(face.quality)} is below QualityControl ${qualityControl} (needs ${QUALITY_MIN[qualityControl]})`);
    }
    return { ...face, image: r.image };
  }

  /** Seals and stores the enrolment images of faces about to be written (groups that keep them). */
  private async keepImages(appId: number, key: Buffer, faces: { faceId: string; image?: Buffer }[]): Promise<PendingImage[]> {
    const out: PendingImage[] = [];
    try {
      for (const f of faces) {
        if (!f.image) throw new Error('the enrolment image is not available to keep');
        out.push(await this.ctx.images!.put(key, appId, f.faceId, f.image));
      }
    } catch (e) {
      await this.ctx.images!.discard(out.map((i) => i.key)).catch(() => {});
      throw e;
    }
    return out;
  }

  /** Removes the objects of images whose rows a committed write deleted. */
  private async discardImages(keys: string[]) {
    if (keys.length) await this.ctx.images?.discard(keys);
  }

  private async sealCombined(w: LibraryWriter, key: Buffer, personId: string, extra: Float32Array[], drop: Set<string> = new Set()): Promise<Buffer | null> {
    const vs: Float32Array[] = [];
    for (const f of await w.faces(personId)) if (!drop.has(f.face_id)) vs.push(this.ctx.crypto.openFace(key, w.appId, f.face_id, f.feature));
    vs.push(...extra);
    if (!vs.length) return null;
    const c = combine(vs);
    for (const v of vs) if (!extra.includes(v)) v.fill(0);
    const sealed = this.ctx.crypto.sealPerson(key, w.appId, personId, c);
    c.fill(0);
    return sealed;
  }

  async create(caller: Caller, inp: CreatePersonInput) {
    const appId = caller.appId;
    const r = this.ctx.repo.reader(appId);
    const group = await r.getGroup(inp.groupId);
    if (!group) throw groupNotFound(inp.groupId);
    if (await r.getPerson(inp.personId)) throw new TcError('InvalidParameterValue.PersonIdAlreadyExist', `PersonId: person "${inp.personId}" already exists`);
    const ex = applyExInfos(group, [], inp.exInfos);
    await this.ctx.index.sync(appId);
    await checkFaceCapacity(this.ctx.limits, this.ctx.index, r, [inp.groupId], 1, 1);
    const extras = inp.extras ?? {};
    const gate = this.ctx.privacy ? await this.ctx.privacy.admit(caller, extras, false) : { minAge: 0 };
    const face = await this.oneFace(caller, inp.image, group.face_model_version, inp.qualityControl, gate.minAge > 0);
    if (gate.minAge > 0) this.ctx.privacy!.checkAge(face.age, gate.minAge, extras, inp.image.Url ? 'Url' : 'Image');
    const rect = face.rect;
    if (inp.uniquePersonControl > 0) {
      await this.ctx.index.sync(appId);
      const vi = this.ctx.index.group(appId, inp.groupId)?.faces;
      const hit = vi ? (await this.ctx.index.search(vi, face.embedding, 1))[0] : undefined;
      if (hit && this.ctx.scale.score(hit.score) >= UNIQUE_PERSON_SCORE[inp.uniquePersonControl]) {
        return { FaceId: '' /* no person was created (the SDK types a string) */, FaceRect: rect, SimilarPersonId: hit.owner, FaceModelVersion: group.face_model_version };
      }
    }
    const key = await this.ctx.crypto.dataKey(appId);
    const faceId = newFaceId();
    const expiresAt = extras.consent?.retentionDays ? this.ctx.clock.now() + extras.consent.retentionDays * DAY_MS : null;
    const kept = group.keep_images && this.ctx.images ? await this.keepImages(appId, key, [{ faceId, image: face.image }]) : [];
    await this.ctx.images!.withImages(kept, () => libraryWrite(this.ctx, appId, async (w) => {
      // Re-checked under the app's write lock: the checks above ran before the (slow) inference.
      if (!(await w.getGroup(inp.groupId))) throw groupNotFound(inp.groupId);
      if (await w.getPerson(inp.personId)) throw new TcError('InvalidParameterValue.PersonIdAlreadyExist', `PersonId: person "${inp.personId}" already exists`);
      await w.insertPerson({
        person_id: inp.personId, name: inp.personName, gender: inp.gender, face_model_version: group.face_model_version,
        combined_feature: this.ctx.crypto.sealPerson(key, appId, inp.personId, face.embedding), end_user_id: extras.endUserId ?? null,
        created_at: w.now, updated_at: w.now, last_used_at: w.now,
      }, extras.consent?.retentionDays ? w.now + extras.consent.retentionDays * DAY_MS : null);
      await w.insertMembership(inp.groupId, inp.personId, ex);
      await w.insertFace({ face_id: faceId, person_id: inp.personId, feature: this.ctx.crypto.sealFace(key, appId, faceId, face.embedding), face_rect: JSON.stringify(rect), image_key: kept[0]?.key ?? null, created_at: w.now });
      await recordImages(w, kept, expiresAt);
      if (extras.consent) await this.recordConsent(w, caller, inp.personId, [faceId], extras);
    }));
    return { FaceId: faceId, FaceRect: rect, SimilarPersonId: '', FaceModelVersion: group.face_model_version };
  }

  /** Who recorded which consent, when, for what purpose and term, under which notice version. */
  private async recordConsent(w: LibraryWriter, caller: Caller, personId: string, faceIds: string[], extras: EnrolmentExtras) {
    const c = extras.consent!;
    await w.insertConsent({
      consent_id: newConsentId(), person_id: personId, face_ids: JSON.stringify(faceIds), reference: c.reference, purpose: c.purpose,
      notice_version: c.noticeVersion, retention_days: c.retentionDays ?? null, parental_reference: extras.parentalConsent ?? null,
      sub_uin: caller.subUin, given_at: w.now, end_user_id: extras.endUserId ?? null,
    }, c.retentionDays ? w.now + c.retentionDays * DAY_MS : null);
  }

  async delete(caller: Caller, personId: string) {
    const images = await libraryWrite(this.ctx, caller.appId, async (w) => {
      if (!(await w.getPerson(personId))) throw personNotFound(personId);
      const keys = await dropImageRecords(w, [personId]);
      await w.deletePerson(personId);
      return keys;
    });
    await this.discardImages(images);
    return {};
  }

  async deleteFromGroup(caller: Caller, personId: string, groupId: string) {
    const images = await libraryWrite(this.ctx, caller.appId, async (w) => {
      if (!(await w.getGroup(groupId))) throw groupNotFound(groupId);
      if (!(await w.getPerson(personId))) throw personNotFound(personId);
      if (!(await w.membership(groupId, personId))) throw new TcError('FailedOperation.GroupPersonMapNotExist', `person "${personId}" is not in group "${groupId}"`);
      // Tencent: removing a person from its last group deletes the person and its faces.
      if ((await w.countMemberships(personId)) <= 1) {
        const keys = await dropImageRecords(w, [personId]);
        await w.deletePerson(personId);
        return keys;
      }
      await w.deleteMembership(groupId, personId);
      return [];
    });
    await this.discardImages(images);
    return {};
  }

  async copy(caller: Caller, personId: string, groupIds: string[]) {
    const ids = [...new Set(groupIds)];
    await libraryWrite(this.ctx, caller.appId, async (w) => {
      const person = await w.getPerson(personId);
      if (!person) throw personNotFound(personId);
      const groups = new Map((await w.getGroups(ids)).map((g) => [g.group_id, g]));
      for (const id of ids) {
        const g = groups.get(id);
        if (!g) throw groupNotFound(id);
        if (g.face_model_version !== person.face_model_version) {
          throw new TcError('FailedOperation.AcrossVersionsError', `group "${id}" uses model ${g.face_model_version} but person "${personId}" was enrolled with ${person.face_model_version}`);
        }
        if (await w.membership(id, personId)) throw new TcError('InvalidParameterValue.PersonExistInGroup', `person "${personId}" is already in group "${id}"`);
      }
      if ((await w.countMemberships(personId)) + ids.length > this.ctx.limits.groupsPerPerson) {
        throw new TcError('InvalidParameterValue.GroupNumPerPersonExceed', `a person can be in at most ${this.ctx.limits.groupsPerPerson} groups`);
      }
      await checkFaceCapacity(this.ctx.limits, this.ctx.index, w, ids, (await w.faces(personId)).length, 0);
      for (const id of ids) await w.insertMembership(id, personId, applyExInfos(groups.get(id)!, [], []));
    });
    return { SucGroupNum: ids.length, SucGroupIds: ids };
  }

  async list(caller: Caller, groupId: string, offset: number, limit: number) {
    const r = this.ctx.repo.reader(caller.appId);
    const g = await r.getGroup(groupId);
    if (!g) throw groupNotFound(groupId);
    const rows = await r.listMembers(groupId, offset, limit);
    const faces = await r.faceIdsOf(rows.map((p) => p.person_id));
    const byPerson = new Map<string, string[]>();
    for (const f of faces) (byPerson.get(f.person_id) ?? byPerson.set(f.person_id, []).get(f.person_id)!).push(f.face_id);
    const c = await r.countMembers(groupId);
    return {
      PersonInfos: rows.map((p) => ({
        PersonName: p.name, PersonId: p.person_id, Gender: p.gender, PersonExDescriptions: JSON.parse(p.ex_descriptions) as string[],
        FaceIds: byPerson.get(p.person_id) ?? [], CreationTimestamp: p.created_at,
      })),
      PersonNum: c.persons, FaceNum: c.faces, FaceModelVersion: g.face_model_version,
    };
  }

  async baseInfo(caller: Caller, personId: string) {
    const r = this.ctx.repo.reader(caller.appId);
    const p = await r.getPerson(personId);
    if (!p) throw personNotFound(personId);
    const faces = await r.faceIdsOf([personId]);
    return { PersonName: p.name, Gender: p.gender, FaceIds: faces.map((f) => f.face_id) };
  }

  async groupInfo(caller: Caller, personId: string, offset: number, limit: number) {
    const r = this.ctx.repo.reader(caller.appId);
    const p = await r.getPerson(personId);
    if (!p) throw personNotFound(personId);
    const rows = await r.memberships(personId, offset, limit);
    return {
      PersonGroupInfos: rows.map((m) => ({ GroupId: m.group_id, PersonExDescriptions: JSON.parse(m.ex_descriptions) as string[] })),
      GroupNum: await r.countMemberships(personId), FaceModelVersion: p.face_model_version,
    };
  }

  async modifyBase(caller: Caller, personId: string, patch: { name?: string; gender?: number }) {
    await libraryWrite(this.ctx, caller.appId, async (w) => {
      if (!(await w.getPerson(personId))) throw personNotFound(personId);
      await w.updatePerson(personId, { ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.gender !== undefined ? { gender: patch.gender } : {}), updated_at: w.now });
    });
    return {};
  }

  async modifyGroupInfo(caller: Caller, groupId: string, personId: string, infos: ExInfo[]) {
    await libraryWrite(this.ctx, caller.appId, async (w) => {
      const g = await w.getGroup(groupId);
      if (!g) throw groupNotFound(groupId);
      if (!(await w.getPerson(personId))) throw personNotFound(personId);
      const m = await w.membership(groupId, personId);
      if (!m) throw new TcError('FailedOperation.GroupPersonMapNotExist', `person "${personId}" is not in group "${groupId}"`);
      await w.updateMembership(groupId, personId, applyExInfos(g, JSON.parse(m.ex_descriptions) as string[], infos));
    });
    return {};
  }

  async createFaces(caller: Caller, personId: string, images: ImageInput[], threshold: number, qualityControl: number, extras: EnrolmentExtras = {}) {
    const appId = caller.appId;
    if (images.length > MAX_FACES_PER_CALL) throw new TcError('InvalidParameterValue.UploadFaceNumExceed', `Images/Urls: at most ${MAX_FACES_PER_CALL} images per call, got ${images.length}`);
    const r = this.ctx.repo.reader(appId);
    const person = await r.getPerson(personId);
    if (!person) throw personNotFound(personId);
    // A person enrolled with consent needs none again; one enrolled before the policy does.
    const gate = this.ctx.privacy ? await this.ctx.privacy.admit(caller, extras, (await r.consents(personId)).length > 0) : { minAge: 0 };
    const key = await this.ctx.crypto.dataKey(appId);
    const existing = (await r.faces(personId)).map((f) => this.ctx.crypto.openFace(key, appId, f.face_id, f.feature));
    if (existing.length >= MAX_FACES_PER_PERSON) throw new TcError('InvalidParameterValue.PersonFaceNumExceed', `person "${personId}" already has ${existing.length} faces, the maximum`);
    const codes: number[] = [];
    const added: { index: number; face: LibraryFace; faceId: string; image?: Buffer }[] = [];
    for (let i = 0; i < images.length; i++) {
      let face: LibraryFace | undefined;
      let image: Buffer | undefined;
      try {
        const found = await this.ctx.faces.faces(caller, images[i], { maxFaces: 1, quality: qualityControl > 0, modelVersion: person.face_model_version, ...(gate.minAge > 0 ? { attributes: true } : {}) });
        face = found.faces[0];
        image = found.image;
      } catch (e) {
        codes.push(retCodeOf(e));
        continue;
      }
      if (!face) { codes.push(RET.noFace); continue; }
      // Under the minimum age the whole call is refused: nothing of this subject is stored.
      if (gate.minAge > 0) this.ctx.privacy!.checkAge(face.age, gate.minAge, extras, `${images[i].Url ? 'Urls' : 'Images'}[${i}]`);
      if (qualityControl > 0 && face.quality !== undefined && face.quality < QUALITY_MIN[qualityControl]) { codes.push(RET.quality); continue; }
      let best = -1;
      for (const v of existing) best = Math.max(best, dot(v, face.embedding));
      if (existing.length && this.ctx.scale.score(best) < threshold) { codes.push(RET.mismatch); continue; }
      codes.push(RET.ok);
      added.push({ index: i, face, faceId: newFaceId(), image });
    }
    for (const v of existing) v.fill(0);
    if (added.length) {
      await this.ctx.index.sync(appId);
      await checkFaceCapacity(this.ctx.limits, this.ctx.index, r, (await r.memberships(personId, 0, this.ctx.limits.groupsPerPerson)).map((m) => m.group_id), added.length, added.length);
      // A person in any group that keeps enrolment images has its new faces' images kept.
      const groups = await r.getGroups((await r.memberships(personId, 0, this.ctx.limits.groupsPerPerson)).map((m) => m.group_id));
      const kept = groups.some((g) => g.keep_images) && this.ctx.images ? await this.keepImages(appId, key, added) : [];
      await this.ctx.images!.withImages(kept, () => libraryWrite(this.ctx, appId, async (w) => {
        if (!(await w.getPerson(personId))) throw personNotFound(personId);
        const now = (await w.faces(personId)).length;
        if (now + added.length > MAX_FACES_PER_PERSON) {
          throw new TcError('InvalidParameterValue.PersonFaceNumExceed', `person "${personId}" has ${now} faces; adding ${added.length} would exceed ${MAX_FACES_PER_PERSON}`);
        }
        const combined = await this.sealCombined(w, key, personId, added.map((a) => a.face.embedding));
        for (const a of added) {
          await w.insertFace({ face_id: a.faceId, person_id: personId, feature: this.ctx.crypto.sealFace(key, appId, a.faceId, a.face.embedding), face_rect: JSON.stringify(a.face.rect), image_key: kept.find((k) => k.faceId === a.faceId)?.key ?? null, created_at: w.now });
        }
        await recordImages(w, kept, person.expires_at);
        await w.updatePerson(personId, { combined_feature: combined, updated_at: w.now });
        if (extras.consent) await this.recordConsent(w, caller, personId, added.map((a) => a.faceId), extras);
      }));
    }
    return {
      SucFaceNum: added.length, SucFaceIds: added.map((a) => a.faceId), RetCode: codes, SucIndexes: added.map((a) => a.index),
      SucFaceRects: added.map((a) => a.face.rect as FaceRect), FaceModelVersion: person.face_model_version,
    };
  }

  async deleteFaces(caller: Caller, personId: string, faceIds: string[]) {
    const appId = caller.appId;
    const key = await this.ctx.crypto.dataKey(appId);
    const { hit: deleted, images } = await libraryWrite(this.ctx, appId, async (w) => {
      if (!(await w.getPerson(personId))) throw personNotFound(personId);
      const faces = await w.faces(personId);
      const wanted = new Set(faceIds);
      const hit = faces.filter((f) => wanted.has(f.face_id)).map((f) => f.face_id);
      if (!hit.length) throw new TcError('InvalidParameterValue.FaceIdNotExist', `FaceIds: none of the given faces belong to person "${personId}"`);
      if (hit.length >= faces.length) throw new TcError('InvalidParameterValue.DeleteFaceNumExceed', `a person keeps at least one face; person "${personId}" has ${faces.length} and ${hit.length} would be deleted`);
      const combined = await this.sealCombined(w, key, personId, [], new Set(hit));
      const images = await dropImageRecords(w, [personId], hit);
      await w.deleteFaces(personId, hit);
      await w.updatePerson(personId, { combined_feature: combined, updated_at: w.now });
      return { hit, images };
    });
    await this.discardImages(images);
    return { SucDeletedNum: deleted.length, SucFaceIds: deleted };
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function retCodeOf(e: unknown): number {
  const code = e instanceof TcError ? e.code : '';
  if (/ImageSizeExceed|ImageResolution|RequestSizeLimit/.test(code)) return RET.size;
  if (e instanceof TcError) return RET.decode;
  throw e;
}
