// facevault's administrative extensions (docs/API.md): deletion requests, the privacy policy,
// the retention policy and usage. Owned by `facevault` for authorisation: root, or a policy
// that names the action.
import type { Clock } from '../../domain/clock.ts';
import { Errors, TcError } from '../../domain/errors.ts';
import type { RetentionRule } from '../../domain/retention-policy.ts';
import type { DeletionSubject } from '../../services/privacy/deletion.ts';
import type { EffectivePolicy, PolicyPatch } from '../../services/privacy/privacy.ts';
import type { PrivacyModule } from '../../services/privacy/privacy-module.ts';
import { monthRange, type UsageService } from '../../services/usage/usage.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { field, int, oneOf, optInt, optStr, str } from '../actions/fields.ts';
import { endUserId } from './privacy-fields.ts';

const mapPolicy = (appId: number, p: EffectivePolicy) => ({
  AppId: appId,
  RequireConsent: p.requireConsent,
  MinAge: p.minAge,
  InactivePersonDays: p.inactivePersonDays,
  // Which values are this AppId's own (the rest follow the deployment's defaults).
  Overrides: Object.entries(p.own).filter(([, v]) => v).map(([k]) => k[0].toUpperCase() + k.slice(1)),
  UpdateTime: p.updatedAt === null ? null : new Date(p.updatedAt).toISOString(),
  UpdatedBy: p.updatedBy,
});

const bool = () => field((v, name) => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw Errors.invalidParameter(name, 'must be true or false');
  return v;
});

export function privacyActions(d: { privacy: PrivacyModule; usage: UsageService; clock: Clock; region: string; retention: RetentionRule[] }): ActionDef<any>[] {
  const { deletions, policy } = d.privacy;
  return [
    defineAction({
      owner: 'facevault', name: 'CreateDeletionRequest',
      params: { PersonId: optStr({ max: 64 }), EndUserId: endUserId(), AppId: optInt() },
      handle: async (ctx, r) => {
        const given = (['PersonId', 'EndUserId', 'AppId'] as const).filter((k) => r[k] !== undefined);
        if (given.length !== 1) throw new TcError('InvalidParameterValue', `give exactly one of PersonId, EndUserId or AppId (the scope of the request); got ${given.length ? given.join(', ') : 'none'}`);
        let subject: DeletionSubject;
        if (r.PersonId !== undefined) subject = { kind: 'person', personId: r.PersonId };
        else if (r.EndUserId !== undefined) subject = { kind: 'end_user', endUserId: r.EndUserId };
        else {
          // Naming the AppId is the confirmation: it must be the caller's own.
          if (r.AppId !== ctx.caller.appId) throw new TcError('InvalidParameterValue', `AppId: must be your own AppId (${ctx.caller.appId}) to erase it`);
          subject = { kind: 'app' };
        }
        return { DeletionRequest: await deletions.create(ctx.caller, subject) };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'DescribeDeletionRequests',
      params: { RequestId: optStr(), Offset: int(0, { min: 0, max: 1_000_000_000 }), Limit: int(20, { min: 1, max: 100 }) },
      handle: async (ctx, r) => {
        const out = await deletions.describe(ctx.caller, r.RequestId ?? null, r.Offset, r.Limit);
        return { DeletionRequests: out.receipts, TotalCount: out.total };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'DescribePrivacyPolicy', params: {},
      handle: async (ctx) => ({ PrivacyPolicy: mapPolicy(ctx.caller.appId, await policy.policy(ctx.caller.appId)) }),
    }),
    defineAction({
      owner: 'facevault', name: 'SetPrivacyPolicy',
      params: { RequireConsent: bool(), MinAge: optInt({ min: 0, max: 99 }), InactivePersonDays: optInt({ min: 0, max: 36500 }) },
      handle: async (ctx, r) => {
        const patch: PolicyPatch = {};
        if (r.RequireConsent !== undefined) patch.requireConsent = r.RequireConsent;
        if (r.MinAge !== undefined) patch.minAge = r.MinAge;
        if (r.InactivePersonDays !== undefined) patch.inactivePersonDays = r.InactivePersonDays;
        if (!Object.keys(patch).length) throw new TcError('MissingParameter', 'give at least one of RequireConsent, MinAge, InactivePersonDays');
        return { PrivacyPolicy: mapPolicy(ctx.caller.appId, await policy.setPolicy(ctx.caller, patch)) };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'DescribeRetentionPolicy', params: {},
      handle: async () => ({
        Region: d.region,
        Rules: d.retention.map((r) => ({
          DataClass: r.dataClass,
          Holds: r.holds,
          RetentionSeconds: r.retainMs === null ? null : Math.round(r.retainMs / 1000),
          MaxBytes: r.maxBytes ?? null,
          DeletedBy: r.deletedBy,
        })),
      }),
    }),
    defineAction({
      owner: 'facevault', name: 'DescribeUsage',
      params: {
        Month: optStr(), StartDate: optStr(), EndDate: optStr(), Granularity: oneOf<'Day' | 'Month'>(['Day', 'Month'], 'Month'),
        Action: optStr(), Service: optStr(),
      },
      handle: async (ctx, r) => {
        ctx.record.billed = false; // reading one's own usage is not a billable call
        let range: { startDate: string; endDate: string };
        if (r.Month !== undefined) {
          if (r.StartDate !== undefined || r.EndDate !== undefined) throw new TcError('InvalidParameter', 'Month: give either Month or StartDate/EndDate, not both');
          range = monthRange('Month', r.Month);
        } else if (r.StartDate !== undefined && r.EndDate !== undefined) range = { startDate: r.StartDate, endDate: r.EndDate };
        else if (r.StartDate !== undefined || r.EndDate !== undefined) throw new TcError('MissingParameter', `${r.StartDate === undefined ? 'StartDate' : 'EndDate'}: StartDate and EndDate go together`);
        else range = monthRange('Month', new Date(d.clock.now()).toISOString().slice(0, 7));
        const out = await d.usage.usage({ ...range, granularity: r.Granularity!, appId: ctx.caller.appId, action: r.Action, service: r.Service });
        return { AppId: ctx.caller.appId, ...out, Items: out.Items.map(({ AppId: _, ...rest }) => rest) };
      },
    }),
    defineAction({
      owner: 'facevault', name: 'DescribeUsageLatency',
      params: { StartDate: str(), EndDate: str() },
      handle: async (ctx, r) => {
        ctx.record.billed = false;
        return { AppId: ctx.caller.appId, ...(await d.usage.latency({ appId: ctx.caller.appId, startDate: r.StartDate, endDate: r.EndDate })) };
      },
    }),
  ];
}
