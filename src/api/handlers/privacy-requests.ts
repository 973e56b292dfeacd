// Privacy extension actions of the deletion-request and consent/age work (docs/API.md):
// CreateDeletionRequest, DescribeDeletionRequests, SetPrivacyPolicy, DescribePrivacyPolicy.
import type { App } from '../../app.ts';
import { TcError } from '../../domain/errors.ts';
import type { DeletionSubject } from '../../services/privacy/deletion.ts';
import type { EffectivePolicy, PolicyPatch } from '../../services/privacy/privacy.ts';
import { endUserId } from './privacy-params.ts';

type P = Record<string, unknown>;

function only(p: P, allowed: string[]) {
  for (const k of Object.keys(p)) if (!allowed.includes(k)) throw new TcError('UnknownParameter', `${k} is not a parameter of this action`);
}

function int(p: P, k: string, min: number, max: number): number | undefined {
  const v = p[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TcError('InvalidParameter', `${k} must be an integer`);
  if (v < min || v > max) throw new TcError('InvalidParameterValue', `${k} must be between ${min} and ${max}, got ${v}`);
  return v;
}

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

export function registerPrivacyRequests(app: App): void {
  const { deletions, policy } = app.privacy;

  app.registry.registerExtension('CreateDeletionRequest', async (ctx, p) => {
    only(p, ['PersonId', 'EndUserId', 'AppId']);
    const given = ['PersonId', 'EndUserId', 'AppId'].filter((k) => p[k] !== undefined && p[k] !== null && p[k] !== '');
    if (given.length !== 1) throw new TcError('InvalidParameterValue', `give exactly one of PersonId, EndUserId or AppId (the scope of the request); got ${given.length ? given.join(', ') : 'none'}`);
    let subject: DeletionSubject;
    if (given[0] === 'PersonId') {
      const id = p.PersonId;
      if (typeof id !== 'string' || id.length > 64) throw new TcError('InvalidParameterValue', 'PersonId must be a string of at most 64 characters');
      subject = { kind: 'person', personId: id };
    } else if (given[0] === 'EndUserId') {
      subject = { kind: 'end_user', endUserId: endUserId(p)! };
    } else {
      // Naming the AppId is the confirmation: it must be the caller's own.
      if (p.AppId !== ctx.caller.appId) throw new TcError('InvalidParameterValue', `AppId must be your own AppId (${ctx.caller.appId}) to erase it`);
      subject = { kind: 'app' };
    }
    const receipt = await deletions.create(ctx.caller, subject);
    return { DeletionRequest: receipt };
  });

  app.registry.registerExtension('DescribeDeletionRequests', async (ctx, p) => {
    only(p, ['RequestId', 'Offset', 'Limit']);
    const id = p.RequestId;
    if (id !== undefined && id !== null && typeof id !== 'string') throw new TcError('InvalidParameter', 'RequestId must be a string');
    const offset = int(p, 'Offset', 0, 1_000_000_000) ?? 0;
    const limit = int(p, 'Limit', 1, 100) ?? 20;
    const r = await deletions.describe(ctx.caller, (id as string | undefined) || null, offset, limit);
    return { DeletionRequests: r.receipts, TotalCount: r.total };
  });

  app.registry.registerExtension('DescribePrivacyPolicy', async (ctx, p) => {
    only(p, []);
    return { PrivacyPolicy: mapPolicy(ctx.caller.appId, await policy.policy(ctx.caller.appId)) };
  });

  app.registry.registerExtension('SetPrivacyPolicy', async (ctx, p) => {
    only(p, ['RequireConsent', 'MinAge', 'InactivePersonDays']);
    const patch: PolicyPatch = {};
    if (p.RequireConsent !== undefined && p.RequireConsent !== null) {
      if (typeof p.RequireConsent !== 'boolean') throw new TcError('InvalidParameter', 'RequireConsent must be true or false');
      patch.requireConsent = p.RequireConsent;
    }
    const minAge = int(p, 'MinAge', 0, 99);
    if (minAge !== undefined) patch.minAge = minAge;
    const days = int(p, 'InactivePersonDays', 0, 36500);
    if (days !== undefined) patch.inactivePersonDays = days;
    if (!Object.keys(patch).length) throw new TcError('MissingParameter', 'give at least one of RequireConsent, MinAge, InactivePersonDays');
    return { PrivacyPolicy: mapPolicy(ctx.caller.appId, await policy.setPolicy(ctx.caller, patch)) };
  });
}
