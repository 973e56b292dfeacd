// iai groups: CreateGroup, DeleteGroup, GetGroupList, GetGroupInfo, ModifyGroup, GetPersonListNum.
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { GroupRow } from '../../store/library/library-repo.ts';
import { groupNotFound, libraryWrite, type LibraryContext } from './library-context.ts';


export interface CreateGroupInput { groupId: string; groupName: string; exDescriptions: string[]; tag: string; faceModelVersion: string; keepImages: boolean }
export interface ModifyGroupInput { groupId: string; groupName?: string; exDescriptionInfos?: { index: number; value: string }[]; tag?: string }

export function mapGroupInfo(g: GroupRow) {
  return {
    GroupName: g.name, GroupId: g.group_id, GroupExDescriptions: JSON.parse(g.ex_descriptions) as string[], Tag: g.tag,
    FaceModelVersion: g.face_model_version, CreationTimestamp: g.created_at, UpdateTimestamp: g.updated_at,
  };
}

export class GroupsService {
  constructor(private readonly ctx: LibraryContext) {}

  async create(caller: Caller, inp: CreateGroupInput) {
    if (!this.ctx.faces.modelVersions().includes(inp.faceModelVersion)) {
      throw new TcError('InvalidParameterValue.FaceModelVersionIllegal', `FaceModelVersion: "${inp.faceModelVersion}" is not installed here; installed: ${this.ctx.faces.modelVersions().join(', ')}`);
    }
    await libraryWrite(this.ctx, caller.appId, async (w) => {
      if (await w.getGroup(inp.groupId)) throw new TcError('InvalidParameterValue.GroupIdAlreadyExist', `GroupId: group "${inp.groupId}" already exists`);
      if (await w.groupByName(inp.groupName)) throw new TcError('InvalidParameterValue.GroupNameAlreadyExist', `GroupName: a group named "${inp.groupName}" already exists`);
      if (await w.countGroups() >= this.ctx.limits.groupsPerApp) throw new TcError('InvalidParameterValue.GroupNumExceed', `this AppId already has ${this.ctx.limits.groupsPerApp} groups, the maximum`);
      await w.insertGroup({
        group_id: inp.groupId, name: inp.groupName, ex_descriptions: JSON.stringify(inp.exDescriptions), tag: inp.tag,
        face_model_version: inp.faceModelVersion, keep_images: inp.keepImages ? 1 : 0, created_at: w.now, updated_at: w.now, last_used_at: w.now,
      });
    });
    return { FaceModelVersion: inp.faceModelVersion };
  }

  async delete(caller: Caller, groupId: string) {
    const images = await libraryWrite(this.ctx, caller.appId, async (w) => {
      if (!(await w.getGroup(groupId))) throw groupNotFound(groupId);
      const members = (await w.listMembers(groupId, 0, 10_000_000)).map((m) => m.person_id);
      const kept = await w.imageKeys(members);
      const orphans = new Set(await w.deleteGroup(groupId));
      // Persons deleted with the group take their kept images with them.
      const keys = kept.filter((k) => orphans.has(k.person_id)).map((k) => k.key);
      await w.deleteBlobRecords(keys);
      return keys;
    });
    if (images.length) await this.ctx.images?.discard(images);
    return {};
  }

  async info(caller: Caller, groupId: string) {
    const g = await this.ctx.repo.reader(caller.appId).getGroup(groupId);
    if (!g) throw groupNotFound(groupId);
    const { UpdateTimestamp: _, ...info } = mapGroupInfo(g);
    return info;
  }

  async list(caller: Caller, offset: number, limit: number) {
    const r = this.ctx.repo.reader(caller.appId);
    const [rows, n] = [await r.listGroups(offset, limit), await r.countGroups()];
    return { GroupInfos: rows.map(mapGroupInfo), GroupNum: n };
  }

  async modify(caller: Caller, inp: ModifyGroupInput) {
    await libraryWrite(this.ctx, caller.appId, async (w) => {
      const g = await w.getGroup(inp.groupId);
      if (!g) throw groupNotFound(inp.groupId);
      const patch: Parameters<typeof w.updateGroup>[1] = { updated_at: w.now };
      if (inp.groupName !== undefined && inp.groupName !== g.name) {
        if (await w.groupByName(inp.groupName)) throw new TcError('InvalidParameterValue.GroupNameAlreadyExist', `GroupName: a group named "${inp.groupName}" already exists`);
        patch.name = inp.groupName;
      }
      if (inp.tag !== undefined) patch.tag = inp.tag;
      if (inp.exDescriptionInfos?.length) {
        const ex = JSON.parse(g.ex_descriptions) as string[];
        for (const d of inp.exDescriptionInfos) {
          // Index == length appends a new field (Tencent: "adds or modifies a field").
          if (d.index > ex.length) throw new TcError('InvalidParameterValue', `GroupExDescriptionInfos.GroupExDescriptionIndex: ${d.index} is beyond the group's ${ex.length} fields`);
          ex[d.index] = d.value;
        }
        if (ex.length > 5) throw new TcError('InvalidParameterValue.GroupExDescriptionsExceed', 'GroupExDescriptionInfos: a group has at most 5 description fields');
        if (new Set(ex).size !== ex.length) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameIdentical', 'GroupExDescriptionInfos: description field names must be unique within the group');
        patch.ex_descriptions = JSON.stringify(ex);
      }
      await w.updateGroup(inp.groupId, patch);
    });
    return {};
  }

  async counts(caller: Caller, groupId: string) {
    const r = this.ctx.repo.reader(caller.appId);
    if (!(await r.getGroup(groupId))) throw groupNotFound(groupId);
    const c = await r.countMembers(groupId);
    return { PersonNum: c.persons, FaceNum: c.faces };
  }
}
