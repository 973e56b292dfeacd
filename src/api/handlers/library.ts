// iai face library: groups, persons, faces, 1:N search and 1:1 verification against enrolled persons.
import type { LibraryModule } from '../../services/library/library-module.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { flag, int, optStr, str } from '../actions/fields.ts';
import { imageFields } from './common.ts';
import * as f from './library-fields.ts';
import { enrolmentExtras, enrolmentFields } from './privacy-fields.ts';

const DEFAULT_VERSION = '3.0';

export function libraryActions(d: { library: LibraryModule }): ActionDef<any>[] {
  const { groups, persons, search, upgrades } = d.library;

  const searchParams = (maxGroups: number, thresholdExclusive: boolean) => ({
    GroupIds: f.groupIds(maxGroups), Image: optStr(), Url: optStr(),
    MaxFaceNum: int(1, { min: 1, max: 10 }), MinFaceSize: int(34, { min: 0, max: 4000 }), NeedPersonInfo: flag(),
    QualityControl: f.qualityControl(), FaceMatchThreshold: f.threshold(0, thresholdExclusive), NeedRotateDetection: flag(),
  });

  const searchAction = (name: 'SearchFaces' | 'SearchFacesReturnsByGroup' | 'SearchPersons' | 'SearchPersonsReturnsByGroup') => {
    const byGroup = name.endsWith('ReturnsByGroup');
    const mode = name.startsWith('SearchPersons') ? 'persons' as const : 'faces' as const;
    // Across groups up to 100 persons; per group up to 10.
    const params = byGroup
      ? { ...searchParams(60, mode === 'persons'), MaxPersonNumPerGroup: int(5, { min: 1, max: 10 }) }
      : { ...searchParams(100, mode === 'persons'), MaxPersonNum: int(5, { min: 1, max: 100 }) };
    return defineAction({
      owner: 'iai', name, params: params as ReturnType<typeof searchParams> & { MaxPersonNum: ReturnType<typeof int> },
      handle: async (ctx, r) => {
        const maxPersonNum = byGroup ? (r as unknown as { MaxPersonNumPerGroup: number }).MaxPersonNumPerGroup : r.MaxPersonNum;
        const inp = {
          groupIds: r.GroupIds, image: { ...f.imageInput(r), rotate: r.NeedRotateDetection }, maxFaceNum: r.MaxFaceNum, minFaceSize: r.MinFaceSize, maxPersonNum,
          needPersonInfo: r.NeedPersonInfo, qualityControl: r.QualityControl, faceMatchThreshold: r.FaceMatchThreshold,
        };
        const out = byGroup ? await search.searchByGroup(ctx.caller, inp, mode) : await search.search(ctx.caller, inp, mode);
        if (out.summary.personId) ctx.record.personId = out.summary.personId;
        ctx.record.result = out.summary.result;
        return out.response;
      },
    });
  };

  const verifyAction = (name: 'VerifyFace' | 'VerifyPerson') => defineAction({
    owner: 'iai', name,
    params: { PersonId: f.id('PersonId'), ...imageFields(), QualityControl: f.qualityControl(), NeedRotateDetection: flag() },
    handle: async (ctx, r) => {
      ctx.record.personId = r.PersonId;
      const out = name === 'VerifyFace'
        ? await search.verifyFace(ctx.caller, r.PersonId, { ...f.imageInput(r), rotate: r.NeedRotateDetection }, r.QualityControl)
        : await search.verifyPerson(ctx.caller, r.PersonId, { ...f.imageInput(r), rotate: r.NeedRotateDetection }, r.QualityControl);
      ctx.record.result = { score: out.Score, isMatch: out.IsMatch };
      return out;
    },
  });

  return [
    // ---- groups
    defineAction({
      owner: 'iai', name: 'CreateGroup',
      params: {
        GroupName: f.name('GroupName', 60, true), GroupId: f.id('GroupId'), GroupExDescriptions: f.groupExDescriptions(), Tag: f.tag(),
        FaceModelVersion: f.faceModelVersion(DEFAULT_VERSION),
        // facevault extension (docs/API.md): keep enrolment images, sealed, for model upgrades.
        KeepEnrolmentImages: int(0, { values: [0, 1] }),
      },
      handle: (ctx, r) => groups.create(ctx.caller, {
        groupName: r.GroupName, groupId: r.GroupId, exDescriptions: r.GroupExDescriptions, tag: r.Tag ?? '',
        faceModelVersion: r.FaceModelVersion, keepImages: r.KeepEnrolmentImages === 1,
      }),
    }),
    defineAction({ owner: 'iai', name: 'DeleteGroup', params: { GroupId: f.id('GroupId') }, handle: (ctx, r) => groups.delete(ctx.caller, r.GroupId) }),
    defineAction({ owner: 'iai', name: 'GetGroupInfo', params: { GroupId: f.id('GroupId') }, handle: (ctx, r) => groups.info(ctx.caller, r.GroupId) }),
    defineAction({
      owner: 'iai', name: 'GetGroupList', params: { Offset: f.offset(), Limit: f.limit(10, 1000) },
      handle: (ctx, r) => groups.list(ctx.caller, r.Offset, r.Limit),
    }),
    defineAction({
      owner: 'iai', name: 'ModifyGroup',
      params: { GroupId: f.id('GroupId'), GroupName: f.name('GroupName', 60, false), GroupExDescriptionInfos: f.groupExDescriptionInfos(), Tag: f.tag() },
      handle: (ctx, r) => groups.modify(ctx.caller, { groupId: r.GroupId, groupName: r.GroupName, exDescriptionInfos: r.GroupExDescriptionInfos, tag: r.Tag }),
    }),
    defineAction({ owner: 'iai', name: 'GetPersonListNum', params: { GroupId: f.id('GroupId') }, handle: (ctx, r) => groups.counts(ctx.caller, r.GroupId) }),

    // ---- persons and faces
    defineAction({
      owner: 'iai', name: 'CreatePerson',
      params: {
        GroupId: f.id('GroupId'), PersonName: f.name('PersonName', 60, true), PersonId: f.id('PersonId'), Gender: f.gender(),
        PersonExDescriptionInfos: f.personExDescriptionInfos(), ...imageFields(),
        UniquePersonControl: int(0, { min: 0, max: 4, code: 'InvalidParameterValue.UniquePersonControlIllegal' }),
        QualityControl: f.qualityControl(), NeedRotateDetection: flag(), ...enrolmentFields(),
      },
      handle: (ctx, r) => {
        const extras = enrolmentExtras(r);
        ctx.record.personId = r.PersonId;
        if (extras.endUserId) ctx.record.endUserId = extras.endUserId;
        return persons.create(ctx.caller, {
          groupId: r.GroupId, personName: r.PersonName, personId: r.PersonId, gender: r.Gender ?? 0, exInfos: r.PersonExDescriptionInfos,
          image: { ...f.imageInput(r), rotate: r.NeedRotateDetection }, uniquePersonControl: r.UniquePersonControl, qualityControl: r.QualityControl, extras,
        });
      },
    }),
    defineAction({
      owner: 'iai', name: 'DeletePerson', params: { PersonId: f.id('PersonId') },
      handle: (ctx, r) => { ctx.record.personId = r.PersonId; return persons.delete(ctx.caller, r.PersonId); },
    }),
    defineAction({
      owner: 'iai', name: 'DeletePersonFromGroup', params: { PersonId: f.id('PersonId'), GroupId: f.id('GroupId') },
      handle: (ctx, r) => { ctx.record.personId = r.PersonId; return persons.deleteFromGroup(ctx.caller, r.PersonId, r.GroupId); },
    }),
    defineAction({
      owner: 'iai', name: 'CopyPerson', params: { PersonId: f.id('PersonId'), GroupIds: f.groupIds(100) },
      handle: (ctx, r) => persons.copy(ctx.caller, r.PersonId, r.GroupIds),
    }),
    defineAction({
      owner: 'iai', name: 'GetPersonList', params: { GroupId: f.id('GroupId'), Offset: f.offset(), Limit: f.limit(10, 1000) },
      handle: (ctx, r) => persons.list(ctx.caller, r.GroupId, r.Offset, r.Limit),
    }),
    defineAction({ owner: 'iai', name: 'GetPersonBaseInfo', params: { PersonId: f.id('PersonId') }, handle: (ctx, r) => persons.baseInfo(ctx.caller, r.PersonId) }),
    defineAction({
      owner: 'iai', name: 'GetPersonGroupInfo', params: { PersonId: f.id('PersonId'), Offset: f.offset(), Limit: f.limit(10, 100) },
      handle: (ctx, r) => persons.groupInfo(ctx.caller, r.PersonId, r.Offset, r.Limit),
    }),
    defineAction({
      owner: 'iai', name: 'ModifyPersonBaseInfo', params: { PersonId: f.id('PersonId'), PersonName: f.name('PersonName', 60, false), Gender: f.gender() },
      handle: (ctx, r) => persons.modifyBase(ctx.caller, r.PersonId, { name: r.PersonName, gender: r.Gender }),
    }),
    defineAction({
      owner: 'iai', name: 'ModifyPersonGroupInfo', params: { GroupId: f.id('GroupId'), PersonId: f.id('PersonId'), PersonExDescriptionInfos: f.personExDescriptionInfos() },
      handle: (ctx, r) => persons.modifyGroupInfo(ctx.caller, r.GroupId, r.PersonId, r.PersonExDescriptionInfos),
    }),
    defineAction({
      owner: 'iai', name: 'CreateFace',
      params: { PersonId: f.id('PersonId'), Images: f.imageList(), Urls: f.imageList(), FaceMatchThreshold: f.threshold(60), QualityControl: f.qualityControl(), NeedRotateDetection: flag(), ...enrolmentFields() },
      handle: async (ctx, r) => {
        const extras = enrolmentExtras(r);
        ctx.record.personId = r.PersonId;
        if (extras.endUserId) ctx.record.endUserId = extras.endUserId;
        const out = await persons.createFaces(ctx.caller, r.PersonId, f.imageInputs(r).map((i) => ({ ...i, rotate: r.NeedRotateDetection })), r.FaceMatchThreshold, r.QualityControl, extras);
        ctx.record.result = { retCodes: out.RetCode };
        return out;
      },
    }),
    defineAction({
      owner: 'iai', name: 'DeleteFace', params: { PersonId: f.id('PersonId'), FaceIds: f.faceIds() },
      handle: (ctx, r) => { ctx.record.personId = r.PersonId; return persons.deleteFaces(ctx.caller, r.PersonId, r.FaceIds); },
    }),

    // ---- search and verification
    searchAction('SearchFaces'), searchAction('SearchFacesReturnsByGroup'), searchAction('SearchPersons'), searchAction('SearchPersonsReturnsByGroup'),
    verifyAction('VerifyFace'), verifyAction('VerifyPerson'),

    // ---- model upgrades re-embed from kept enrolment images (groups created with KeepEnrolmentImages)
    defineAction({
      owner: 'iai', name: 'UpgradeGroupFaceModelVersion', params: { GroupId: f.id('GroupId'), FaceModelVersion: str() },
      handle: (ctx, r) => upgrades.upgrade(ctx.caller, r.GroupId, r.FaceModelVersion),
    }),
    defineAction({ owner: 'iai', name: 'GetUpgradeGroupFaceModelVersionResult', params: { JobId: str() }, handle: (ctx, r) => upgrades.result(ctx.caller, r.JobId) }),
    defineAction({
      owner: 'iai', name: 'GetUpgradeGroupFaceModelVersionJobList', params: { Offset: f.offset(), Limit: f.limit(10, 1000) },
      handle: (ctx, r) => upgrades.list(ctx.caller, r.Offset, r.Limit),
    }),
    defineAction({ owner: 'iai', name: 'RevertGroupFaceModelVersion', params: { JobId: str() }, handle: (ctx, r) => upgrades.revert(ctx.caller, r.JobId) }),
  ];
}
