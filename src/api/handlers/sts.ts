// sts 2018-08-13: temporary credentials (services/accounts/federation.ts). Only
// GetFederationToken is served; the role actions need CAM roles facevault does not have.
import { TcError } from '../../domain/errors.ts';
import type { FederationTokens } from '../../services/accounts/federation.ts';
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, DEFAULT_DURATION_SECONDS } from '../../services/accounts/federation.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { int, str } from '../actions/fields.ts';

export function stsActions(d: { tokens: Pick<FederationTokens, 'mint'> }): ActionDef<any>[] {
  return [
    defineAction({
      owner: 'sts', name: 'GetFederationToken',
      params: {
        // Tencent: letters (and digits, +=,.@_-), up to 32 characters.
        Name: str({ max: 32, pattern: /^[A-Za-z0-9+=,.@_-]+$/, patternText: 'letters, digits and +=,.@_- only' }),
        Policy: str({ maxBytes: 16 * 1024 }),
        DurationSeconds: int(DEFAULT_DURATION_SECONDS, { min: MIN_DURATION_SECONDS, max: MAX_DURATION_SECONDS }),
      },
      handle: async (ctx, r) => {
        if (!ctx.secretId) throw new TcError('InternalError', 'the signing key is not known');
        return { ...(await d.tokens.mint(ctx.secretId, { name: r.Name, policy: r.Policy, durationSeconds: r.DurationSeconds })) };
      },
    }),
  ];
}
