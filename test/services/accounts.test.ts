// AccountsService.authorize / policy.allows: the one access check every action passes. A fake
// repository (only getKey is used by authenticate), no database, no HTTP.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountsService, type Authenticated } from '../../src/services/accounts/accounts.ts';
import { allows, validatePolicy } from '../../src/services/accounts/policy.ts';
import type { AccountsRepo, KeyRecord } from '../../src/store/accounts/accounts-repo.ts';
import { Keyring } from '../../src/store/keys/keyring.ts';
import type { ActionOwner } from '../../src/domain/call.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { MemoryKeyStore, code } from './fixture.ts';

const keyring = new Keyring(crypto.randomBytes(32));
const keys = new Map<string, KeyRecord>();
const fakeRepo = { getKey: async (secretId: string) => keys.get(secretId) } as unknown as AccountsRepo;
const accounts = new AccountsService(fakeRepo, keyring, new MemoryKeyStore(), new ManualClock());

const auth = (policy: string[], isRoot = false): Authenticated => ({ caller: { appId: 1, uin: 'u', subUin: isRoot ? 'u' : 's' }, secretId: 'AKIDspec', secretKey: 'k', policy, isRoot });
const may = (a: Authenticated, owner: ActionOwner, action: string) => code(Promise.resolve().then(() => accounts.authorize(a, owner, action)));

const CALLS: [ActionOwner, string][] = [
  ['iai', 'DetectFace'], ['iai', 'CreateGroup'], ['facefusion', 'FuseFace'], ['vclm', 'SubmitVideoFaceFusionJob'],
  ['facevault', 'CreateDeletionRequest'], ['facevault', 'SetPrivacyPolicy'], ['facevault', 'DescribeUsage'],
];

/** The rule, written out: root may do all; `*` and `service:*` never reach facevault's administrative actions. */
const TABLE: Record<string, { policy: string[]; root?: boolean; allowed: string[] }> = {
  root: { policy: [], root: true, allowed: CALLS.map(([o, a]) => `${o}:${a}`) },
  star: { policy: ['*'], allowed: ['iai:DetectFace', 'iai:CreateGroup', 'facefusion:FuseFace', 'vclm:SubmitVideoFaceFusionJob'] },
  iaiStar: { policy: ['iai:*'], allowed: ['iai:DetectFace', 'iai:CreateGroup'] },
  facevaultStar: { policy: ['facevault:*'], allowed: [] },
  named: { policy: ['iai:DetectFace', 'facevault:DescribeUsage'], allowed: ['iai:DetectFace', 'facevault:DescribeUsage'] },
  none: { policy: [], allowed: [] },
};

describe('AccountsService.authorize', () => {
  for (const [who, t] of Object.entries(TABLE)) {
    it(`${who}: exactly ${t.allowed.length ? t.allowed.join(', ') : 'nothing'}`, async () => {
      const a = auth(t.policy, t.root);
      for (const [owner, action] of CALLS) {
        const expected = t.allowed.includes(`${owner}:${action}`) ? 'OK' : 'AuthFailure.UnauthorizedOperation';
        expect(`${owner}:${action} ${await may(a, owner, action)}`).toBe(`${owner}:${action} ${expected}`);
      }
    });
  }

  it('a named action does not grant its neighbours, nor the same name under another service', () => {
    expect(allows(['iai:DetectFace'], 'iai', 'DetectFaceAttributes')).toBe(false);
    expect(allows(['iai:DetectFace'], 'facefusion', 'DetectFace')).toBe(false);
    expect(allows(['facevault:DescribeUsage'], 'facevault', 'CreateDeletionRequest')).toBe(false);
    expect(allows(['iai:*'], 'facefusion', 'FuseFace')).toBe(false);
  });

  it('refuses malformed policy entries (no partial wildcards)', () => {
    expect(validatePolicy(['iai:*', 'facevault:SetPrivacyPolicy', '*'])).toBeNull();
    for (const bad of ['iai:Detect*', 'iai', '*:*', 'IAI:DetectFace', 'iai:detectFace']) expect(validatePolicy([bad])).toContain(bad);
  });
});

describe('AccountsService.authenticate', () => {
  const record = (secretId: string, o: Partial<KeyRecord> = {}): KeyRecord => ({
    secretId, appId: 7, subUin: 's7', uin: 'u7', isRoot: false, policy: ['iai:*'], secretKeyEnc: keyring.sealSecret(`secret-${secretId}`, `key:${secretId}`),
    status: 'active', appStatus: 'active', ...o,
  });

  it('gives the key\'s own AppId, sub-user and policy; disabled keys and deleted apps are unknown', async () => {
    keys.set('AKIDok', record('AKIDok'));
    keys.set('AKIDoff', record('AKIDoff', { status: 'disabled' }));
    keys.set('AKIDgone', record('AKIDgone', { appStatus: 'deleted' }));
    const a = await accounts.authenticate('AKIDok');
    expect(a).toMatchObject({ caller: { appId: 7, uin: 'u7', subUin: 's7' }, secretKey: 'secret-AKIDok', policy: ['iai:*'], isRoot: false });
    for (const id of ['AKIDoff', 'AKIDgone', 'AKIDmissing']) expect(await code(accounts.authenticate(id))).toBe('AuthFailure.SecretIdNotFound');
  });

  it('a sealed secret copied onto another SecretId does not open', async () => {
    keys.set('AKIDcopy', { ...record('AKIDcopy'), secretKeyEnc: record('AKIDok').secretKeyEnc });
    await expect(accounts.authenticate('AKIDcopy')).rejects.toThrow();
  });
});
