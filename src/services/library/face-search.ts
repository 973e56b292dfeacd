// iai 1:N and 1:1 against the library: SearchFaces, SearchFacesReturnsByGroup, SearchPersons,
// SearchPersonsReturnsByGroup, VerifyFace, VerifyPerson.
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { GroupRow } from '../../store/library/library-repo.ts';
import type { Hit } from '../../search/vector-index.ts';
import { QUALITY_MIN, type ImageInput, type LibraryFace } from './library-deps.ts';
import { groupNotFound, personNotFound, round2, type LibraryContext } from './library-context.ts';

export const VERIFY_MATCH_SCORE = 60;

export interface SearchInput {
  groupIds: string[];
  image: ImageInput;
  maxFaceNum: number;
  minFaceSize: number;
  /** MaxPersonNum, or MaxPersonNumPerGroup for the ReturnsByGroup actions. */
  maxPersonNum: number;
  needPersonInfo: boolean;
  qualityControl: number;
  faceMatchThreshold: number;
}

export interface SearchSummary { personId?: string; result: unknown }

type Mode = 'faces' | 'persons';

export class SearchService {
  constructor(private readonly ctx: LibraryContext) {}

  private async groupsOf(caller: Caller, ids: string[]): Promise<GroupRow[]> {
    const unique = [...new Set(ids)];
    const rows = await this.ctx.repo.reader(caller.appId).getGroups(unique);
    const byId = new Map(rows.map((g) => [g.group_id, g]));
    for (const id of unique) if (!byId.has(id)) throw groupNotFound(id);
    const versions = new Set(rows.map((g) => g.face_model_version));
    if (versions.size > 1) throw new TcError('FailedOperation.AcrossVersionsError', `GroupIds: the groups use different model versions (${[...versions].join(', ')}); search groups of one version at a time`);
    return unique.map((id) => byId.get(id)!);
  }

  private async queryFaces(caller: Caller, inp: SearchInput, version: string): Promise<LibraryFace[]> {
    const r = await this.ctx.faces.faces(caller, inp.image, { maxFaces: inp.maxFaceNum, minFaceSize: inp.minFaceSize, quality: inp.qualityControl > 0, modelVersion: version });
    if (!r.faces.length) throw new TcError('InvalidParameterValue.NoFaceInPhoto', `Image/Url: no face of at least ${inp.minFaceSize} px was found in the image`);
    return r.faces;
  }

  private qualityOk(face: LibraryFace, qc: number): boolean {
    return qc === 0 || face.quality === undefined || face.quality >= QUALITY_MIN[qc];
  }

  /** Shared by the four Search* actions. */
  private async run(caller: Caller, inp: SearchInput, mode: Mode) {
    const groups = await this.groupsOf(caller, inp.groupIds);
    await this.ctx.index.sync(caller.appId);
    const idx = groups.map((g) => ({ id: g.group_id, idx: this.ctx.index.group(caller.appId, g.group_id) }));
    let total = 0;
    for (const g of idx) total += (mode === 'faces' ? g.idx?.faces.size : g.idx?.persons.size) ?? 0;
    if (total === 0) throw new TcError('InvalidParameterValue.NoFaceInGroups', 'GroupIds: the groups hold no faces');
    const version = groups[0].face_model_version;
    const faces = await this.queryFaces(caller, inp, version);
    const k = inp.maxPersonNum;
    const results = await Promise.all(faces.map(async (face) => {
      if (!this.qualityOk(face, inp.qualityControl)) return { face, ok: false, perGroup: [] as { groupId: string; hits: Hit[] }[] };
      const perGroup = await Promise.all(idx.map(async (g) => {
        const vi = mode === 'faces' ? g.idx?.faces : g.idx?.persons;
        const hits = (vi ? await this.ctx.index.search(vi, face.embedding, k) : []).filter((h) => this.ctx.scale.score(h.score) >= inp.faceMatchThreshold);
        return { groupId: g.id, hits };
      }));
      return { face, ok: true, perGroup };
    }));
    return { groups, version, total, results };
  }

  private async personInfo(caller: Caller, personIds: string[], groupIds: string[]) {
    const r = this.ctx.repo.reader(caller.appId);
    const persons = new Map((await r.getPersons(personIds)).map((p) => [p.person_id, p]));
    const members = await r.membershipsOf(personIds, groupIds);
    const groupsOf = new Map<string, { GroupId: string; PersonExDescriptions: string[] }[]>();
    for (const m of members) (groupsOf.get(m.person_id) ?? groupsOf.set(m.person_id, []).get(m.person_id)!).push({ GroupId: m.group_id, PersonExDescriptions: JSON.parse(m.ex_descriptions) as string[] });
    return (id: string) => ({ PersonName: persons.get(id)?.name ?? null, Gender: persons.get(id)?.gender ?? null, PersonGroupInfos: groupsOf.get(id) ?? [] });
  }

  private async candidates(caller: Caller, inp: SearchInput, mode: Mode, lists: Hit[][]) {
    const ids = [...new Set(lists.flat().map((h) => h.owner))];
    const info = inp.needPersonInfo ? await this.personInfo(caller, ids, inp.groupIds) : null;
    return lists.map((hits) => hits.map((h) => ({
      // Person search matches fused features, so no one face matched: '' (the SDK types a string).
      PersonId: h.owner, FaceId: mode === 'faces' ? h.id : '', Score: round2(this.ctx.scale.score(h.score)),
      ...(info ? info(h.owner) : { PersonName: null, Gender: null, PersonGroupInfos: null }),
    })));
  }

  async search(caller: Caller, inp: SearchInput, mode: Mode): Promise<{ response: Record<string, unknown>; summary: SearchSummary }> {
    const { version, total, results } = await this.run(caller, inp, mode);
    // Across groups: one entry per person (its best face), top MaxPersonNum.
    const merged = results.map((r) => {
      const best = new Map<string, Hit>();
      for (const g of r.perGroup) for (const h of g.hits) { const b = best.get(h.owner); if (!b || h.score > b.score) best.set(h.owner, h); }
      return [...best.values()].sort((a, b) => b.score - a.score).slice(0, inp.maxPersonNum);
    });
    const cands = await this.candidates(caller, inp, mode, merged);
    const Results = results.map((r, i) => ({ Candidates: cands[i], FaceRect: r.face.rect, RetCode: r.ok ? 0 : -1601 }));
    const anyOk = results.some((r) => r.ok);
    const response = mode === 'faces'
      ? { Results, FaceNum: total, FaceModelVersion: version }
      : { Results, PersonNum: anyOk ? total : 0, FaceModelVersion: version };
    const summary = summarize(merged);
    await this.ctx.privacy?.noteUse(caller.appId, summary.personId);
    return { response, summary };
  }

  async searchByGroup(caller: Caller, inp: SearchInput, mode: Mode): Promise<{ response: Record<string, unknown>; summary: SearchSummary }> {
    const { version, total, results } = await this.run(caller, inp, mode);
    const lists = results.flatMap((r) => r.perGroup.map((g) => g.hits));
    const cands = await this.candidates(caller, inp, mode, lists);
    let i = 0;
    const ResultsReturnsByGroup = results.map((r) => ({
      FaceRect: r.face.rect,
      GroupCandidates: r.perGroup.map((g) => ({ GroupId: g.groupId, Candidates: cands[i++] })),
      RetCode: r.ok ? 0 : -1601,
    }));
    const anyOk = results.some((r) => r.ok);
    const response = mode === 'faces'
      ? { FaceNum: total, ResultsReturnsByGroup, FaceModelVersion: version }
      : { PersonNum: anyOk ? total : 0, ResultsReturnsByGroup, FaceModelVersion: version };
    const best = results.map((r) => r.perGroup.flatMap((g) => g.hits).sort((a, b) => b.score - a.score));
    const summary = summarize(best);
    await this.ctx.privacy?.noteUse(caller.appId, summary.personId);
    return { response, summary };
  }

  /** VerifyFace: the best score over the person's faces (exact float32, not the index). */
  async verifyFace(caller: Caller, personId: string, image: ImageInput, qualityControl: number) {
    const appId = caller.appId;
    const r = this.ctx.repo.reader(appId);
    const person = await r.getPerson(personId);
    if (!person) throw personNotFound(personId);
    const face = await this.oneFace(caller, image, person.face_model_version, qualityControl);
    const key = await this.ctx.crypto.dataKey(appId);
    let best = -1;
    for (const f of await r.faces(personId)) {
      const v = this.ctx.crypto.openFace(key, appId, f.face_id, f.feature);
      best = Math.max(best, dot(v, face.embedding));
      v.fill(0);
    }
    const score = round2(this.ctx.scale.score(best));
    return this.verified(appId, personId, score, person.face_model_version);
  }

  /** VerifyPerson: against the person's combined feature. */
  async verifyPerson(caller: Caller, personId: string, image: ImageInput, qualityControl: number) {
    const appId = caller.appId;
    const person = await this.ctx.repo.reader(appId).getPerson(personId);
    if (!person) throw personNotFound(personId);
    if (!person.combined_feature) throw new TcError('FailedOperation.GroupLostFaces', `person "${personId}" has no faces`);
    const face = await this.oneFace(caller, image, person.face_model_version, qualityControl);
    const key = await this.ctx.crypto.dataKey(appId);
    const v = this.ctx.crypto.openPerson(key, appId, personId, person.combined_feature);
    const score = round2(this.ctx.scale.score(dot(v, face.embedding)));
    v.fill(0);
    return this.verified(appId, personId, score, person.face_model_version);
  }

  private async verified(appId: number, personId: string, score: number, version: string) {
    const isMatch = score >= VERIFY_MATCH_SCORE;
    if (isMatch) await this.ctx.privacy?.noteUse(appId, personId);
    return { Score: score, IsMatch: isMatch, FaceModelVersion: version };
  }

  private async oneFace(caller: Caller, image: ImageInput, version: string, qc: number): Promise<LibraryFace> {
    const r = await this.ctx.faces.faces(caller, image, { maxFaces: 1, quality: qc > 0, modelVersion: version });
    const face = r.faces[0];
    if (!face) throw new TcError('InvalidParameterValue.NoFaceInPhoto', 'Image/Url: no face was found in the image');
    if (!this.qualityOk(face, qc)) throw new TcError('FailedOperation.FaceQualityNotQualified', `the face's quality score ${Math.round(face.quality ?? 0)} is below QualityControl ${qc} (needs ${QUALITY_MIN[qc]})`);
    return face;
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function summarize(lists: Hit[][]): SearchSummary {
  const top = lists[0]?.[0];
  return { personId: top?.owner, result: { faces: lists.length, top: lists.map((l) => l[0] ? { personId: l[0].owner, cosine: round2(l[0].score * 100) / 100 } : null) } };
}
