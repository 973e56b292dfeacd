// iai face library: groups, persons, faces, 1:N search and 1:1 verification against enrolled persons.
import type { App } from '../../app.ts';
import type { ActionHandler } from '../actions.ts';
import { TcError } from '../../domain/errors.ts';
import * as v from './library-params.ts';
import { enrolmentExtras } from './privacy-params.ts';

const DEFAULT_VERSION = '3.0';

export function registerLibrary(app: App): void {
  const lib = app.library;
  const reg = (action: string, h: ActionHandler) => app.registry.register('iai', action, h);

  reg('CreateGroup', async (ctx, p) => lib.groups.create(ctx.caller, {
    groupName: v.name(p, 'GroupName', 'GroupName', 60, true)!, groupId: v.id(p, 'GroupId'), exDescriptions: v.groupExDescriptions(p),
    tag: v.tag(p) ?? '', faceModelVersion: v.faceModelVersion(p, DEFAULT_VERSION), keepImages: v.int(p, 'KeepEnrolmentImages', 0, 0, 1) === 1,
  }));
  reg('DeleteGroup', async (ctx, p) => lib.groups.delete(ctx.caller, v.id(p, 'GroupId')));
  reg('GetGroupInfo', async (ctx, p) => lib.groups.info(ctx.caller, v.id(p, 'GroupId')));
  reg('GetGroupList', async (ctx, p) => { const o = v.offsetLimit(p, 10, 1000); return lib.groups.list(ctx.caller, o.offset, o.limit); });
  reg('ModifyGroup', async (ctx, p) => lib.groups.modify(ctx.caller, {
    groupId: v.id(p, 'GroupId'), groupName: v.name(p, 'GroupName', 'GroupName', 60, false), exDescriptionInfos: v.groupExDescriptionInfos(p), tag: v.tag(p),
  }));
  reg('GetPersonListNum', async (ctx, p) => lib.groups.counts(ctx.caller, v.id(p, 'GroupId')));

  reg('CreatePerson', async (ctx, p) => {
    const inp = {
      groupId: v.id(p, 'GroupId'), personName: v.name(p, 'PersonName', 'PersonName', 60, true)!, personId: v.id(p, 'PersonId'),
      gender: v.gender(p) ?? 0, exInfos: v.personExDescriptionInfos(p), image: v.image(p),
      uniquePersonControl: v.int(p, 'UniquePersonControl', 0, 0, 4, 'InvalidParameterValue.UniquePersonControlIllegal'),
      qualityControl: v.qualityControl(p),
      extras: enrolmentExtras(p),
    };
    v.int(p, 'NeedRotateDetection', 0, 0, 1);
    ctx.record.personId = inp.personId;
    if (inp.extras.endUserId) ctx.record.endUserId = inp.extras.endUserId;
    return lib.persons.create(ctx.caller, inp);
  });
  reg('DeletePerson', async (ctx, p) => { const id = v.id(p, 'PersonId'); ctx.record.personId = id; return lib.persons.delete(ctx.caller, id); });
  reg('DeletePersonFromGroup', async (ctx, p) => {
    const id = v.id(p, 'PersonId');
    ctx.record.personId = id;
    return lib.persons.deleteFromGroup(ctx.caller, id, v.id(p, 'GroupId'));
  });
  reg('CopyPerson', async (ctx, p) => lib.persons.copy(ctx.caller, v.id(p, 'PersonId'), v.idList(p, 'GroupIds', 100)));
  reg('GetPersonList', async (ctx, p) => { const o = v.offsetLimit(p, 10, 1000); return lib.persons.list(ctx.caller, v.id(p, 'GroupId'), o.offset, o.limit); });
  reg('GetPersonBaseInfo', async (ctx, p) => lib.persons.baseInfo(ctx.caller, v.id(p, 'PersonId')));
  reg('GetPersonGroupInfo', async (ctx, p) => { const o = v.offsetLimit(p, 10, 100); return lib.persons.groupInfo(ctx.caller, v.id(p, 'PersonId'), o.offset, o.limit); });
  reg('ModifyPersonBaseInfo', async (ctx, p) => lib.persons.modifyBase(ctx.caller, v.id(p, 'PersonId'), { name: v.name(p, 'PersonName', 'PersonName', 60, false), gender: v.gender(p) }));
  reg('ModifyPersonGroupInfo', async (ctx, p) => lib.persons.modifyGroupInfo(ctx.caller, v.id(p, 'GroupId'), v.id(p, 'PersonId'), v.personExDescriptionInfos(p)));
  reg('CreateFace', async (ctx, p) => {
    const id = v.id(p, 'PersonId');
    const imgs = v.images(p);
    const thr = v.threshold(p, 60);
    const qc = v.qualityControl(p);
    const extras = enrolmentExtras(p);
    ctx.record.personId = id;
    if (extras.endUserId) ctx.record.endUserId = extras.endUserId;
    const r = await lib.persons.createFaces(ctx.caller, id, imgs, thr, qc, extras);
    ctx.record.result = { retCodes: r.RetCode };
    return r;
  });
  reg('DeleteFace', async (ctx, p) => {
    const id = v.id(p, 'PersonId');
    const ids = p.FaceIds;
    if (!Array.isArray(ids) || !ids.length) throw new TcError('MissingParameter', 'FaceIds is required (an array of FaceId strings)');
    if (ids.some((x) => typeof x !== 'string')) throw new TcError('InvalidParameter', 'FaceIds: must be an array of strings');
    ctx.record.personId = id;
    return lib.persons.deleteFaces(ctx.caller, id, ids as string[]);
  });

  const searchInput = (p: Record<string, unknown>, maxGroups: number, personField: string, personDef: number, personMax: number, thresholdExclusive: boolean) => ({
    groupIds: v.idList(p, 'GroupIds', maxGroups), image: v.image(p),
    maxFaceNum: v.int(p, 'MaxFaceNum', 1, 1, 10), minFaceSize: v.int(p, 'MinFaceSize', 34, 0, 4000),
    maxPersonNum: v.int(p, personField, personDef, 1, personMax), needPersonInfo: v.flag(p, 'NeedPersonInfo'),
    qualityControl: v.qualityControl(p), faceMatchThreshold: v.threshold(p, 0, thresholdExclusive),
  });
  const searchHandler = (byGroup: boolean, mode: 'faces' | 'persons'): ActionHandler => async (ctx, p) => {
    const inp = byGroup ? searchInput(p, 60, 'MaxPersonNumPerGroup', 5, 10, mode === 'persons') : searchInput(p, 100, 'MaxPersonNum', 5, 100, mode === 'persons');
    const r = byGroup ? await lib.search.searchByGroup(ctx.caller, inp, mode) : await lib.search.search(ctx.caller, inp, mode);
    if (r.summary.personId) ctx.record.personId = r.summary.personId;
    ctx.record.result = r.summary.result;
    // A recognised person counts as used (inactivity purge, docs/PRIVACY.md).
    await app.privacy.policy.noteUse(ctx.caller.appId, r.summary.personId);
    return r.response;
  };
  reg('SearchFaces', searchHandler(false, 'faces'));
  reg('SearchFacesReturnsByGroup', searchHandler(true, 'faces'));
  reg('SearchPersons', searchHandler(false, 'persons'));
  reg('SearchPersonsReturnsByGroup', searchHandler(true, 'persons'));
  const verify = (kind: 'face' | 'person'): ActionHandler => async (ctx, p) => {
    const id = v.id(p, 'PersonId');
    const img = v.image(p);
    const qc = v.qualityControl(p);
    ctx.record.personId = id;
    const r = kind === 'face' ? await lib.search.verifyFace(ctx.caller, id, img, qc) : await lib.search.verifyPerson(ctx.caller, id, img, qc);
    ctx.record.result = { score: r.Score, isMatch: r.IsMatch };
    if (r.IsMatch) await app.privacy.policy.noteUse(ctx.caller.appId, id);
    return r;
  };
  reg('VerifyFace', verify('face'));
  reg('VerifyPerson', verify('person'));

  // Model upgrades re-embed from kept enrolment images (groups created with KeepEnrolmentImages).
  const jobId = (p: Record<string, unknown>) => {
    const j = p.JobId;
    if (j === undefined || j === null || j === '') throw new TcError('MissingParameter', 'JobId is required');
    if (typeof j !== 'string') throw new TcError('InvalidParameter', 'JobId: must be a string');
    return j;
  };
  reg('UpgradeGroupFaceModelVersion', async (ctx, p) => {
    const groupId = v.id(p, 'GroupId');
    const to = v.faceModelVersion(p, '');
    if (!to) throw new TcError('MissingParameter', 'FaceModelVersion is required');
    return lib.upgrades.upgrade(ctx.caller, groupId, to);
  });
  reg('GetUpgradeGroupFaceModelVersionResult', async (ctx, p) => lib.upgrades.result(ctx.caller, jobId(p)));
  reg('GetUpgradeGroupFaceModelVersionJobList', async (ctx, p) => { const o = v.offsetLimit(p, 10, 1000); return lib.upgrades.list(ctx.caller, o.offset, o.limit); });
  reg('RevertGroupFaceModelVersion', async (ctx, p) => lib.upgrades.revert(ctx.caller, jobId(p)));
}
