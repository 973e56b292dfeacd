// facevault's account administration extensions (docs/API.md "Keys and audit"): sub-users,
// their policies and key pairs, and the audit log. Owned by `facevault`: root, or a policy that
// names the action; a sub-user never grants more than its own policy (accounts.ts).
import { Errors } from '../../domain/errors.ts';
import type { AccountsService } from '../../services/accounts/accounts.ts';
import type { AuditLog, AuditRecord } from '../../services/accounts/audit.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { field, int, optStr, str } from '../actions/fields.ts';

const SECRET_ID = str({ max: 64 });

/** A policy: up to 100 "service:Action" patterns (checked by the accounts service); absent = unchanged. */
const policy = () => field((v, name) => {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw Errors.invalidParameter(name, 'must be an array of strings');
  if (v.length > 100) throw Errors.invalidValue(name, `at most 100 entries, got ${v.length}`);
  return v.map((x, i) => {
    if (typeof x !== 'string') throw Errors.invalidParameter(`${name}[${i}]`, 'must be a string');
    return x;
  });
});

const iso = (ms: number) => new Date(ms).toISOString();

const mapAudit = (r: AuditRecord) => ({
  Seq: r.seq, Time: iso(r.time), Actor: r.actor, Action: r.action, Target: r.target, Details: JSON.stringify(r.details), Hash: r.hash,
});

export function accountActions(d: { accounts: AccountsService; audit: AuditLog }): ActionDef<any>[] {
  return [
    defineAction({
      owner: 'facevault', name: 'DescribeSubUsers', params: {},
      handle: async (ctx) => {
        ctx.record.billed = false;
        const keys = await d.accounts.listKeys(ctx.caller.appId);
        const users = new Map<string, { SubUin: string; Name: string; IsRoot: boolean; Policy: string[]; Keys: { SecretId: string; Status: string; CreateTime: string }[] }>();
        for (const k of keys) {
          let u = users.get(k.SubUin);
          if (!u) users.set(k.SubUin, u = { SubUin: k.SubUin, Name: k.User, IsRoot: k.IsRoot, Policy: k.Policy, Keys: [] });
          u.Keys.push({ SecretId: k.SecretId, Status: k.Status === 'active' ? 'ACTIVE' : 'DISABLED', CreateTime: k.CreatedAt });
        }
        // Root first, then sub-users by name.
        const SubUsers = [...users.values()].sort((a, b) => Number(b.IsRoot) - Number(a.IsRoot) || a.Name.localeCompare(b.Name));
        return { SubUsers, TotalCount: SubUsers.length };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'CreateSubUserKey',
      params: { SubUser: optStr({ max: 64 }), Policy: policy() },
      handle: async (ctx, r) => {
        ctx.record.billed = false;
        const c = await d.accounts.adminCreateKey(ctx.caller, { subUser: r.SubUser, policy: r.Policy });
        // The SecretKey is in this response only; it cannot be read back later.
        return { SubUin: c.SubUin, SecretId: c.SecretId, SecretKey: c.SecretKey, Policy: c.Policy };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'SetSubUserPolicy',
      params: { SubUser: str({ max: 64 }), Policy: policy() },
      handle: async (ctx, r) => {
        ctx.record.billed = false;
        if (r.Policy === undefined) throw Errors.missing('Policy');
        return { SubUser: r.SubUser, Policy: await d.accounts.adminSetPolicy(ctx.caller, r.SubUser, r.Policy) };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'DisableKey', params: { SecretId: SECRET_ID },
      handle: async (ctx, r) => {
        ctx.record.billed = false;
        await d.accounts.adminSetKeyStatus(ctx.caller, r.SecretId, 'disabled');
        return { SecretId: r.SecretId, Status: 'DISABLED' };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'EnableKey', params: { SecretId: SECRET_ID },
      handle: async (ctx, r) => {
        ctx.record.billed = false;
        await d.accounts.adminSetKeyStatus(ctx.caller, r.SecretId, 'active');
        return { SecretId: r.SecretId, Status: 'ACTIVE' };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'DescribeAuditLog',
      params: { Limit: int(50, { min: 1, max: 200 }), Action: optStr({ max: 64 }) },
      handle: async (ctx, r) => {
        ctx.record.billed = false;
        const records = await d.audit.list({ appId: ctx.caller.appId, action: r.Action, limit: r.Limit });
        // The chain spans every AppId, so only whether it holds is told, not other tenants' counts.
        const v = await d.audit.verify();
        return {
          Records: records.map(mapAudit),
          Verification: v.ok ? { Valid: true, HeadHash: v.headHash, Reason: '' } : { Valid: false, HeadHash: '', Reason: v.reason },
        };
      },
    }),
  ];
}
