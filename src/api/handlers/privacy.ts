// Privacy extension actions (docs/API.md), served under every API version.
import type { App } from '../../app.ts';
import { registerUsage } from './usage.ts';
import { rulesFromConfig } from '../../domain/retention-policy.ts';
import { registerPrivacyRequests } from './privacy-requests.ts';

export function registerPrivacy(app: App): void {
  registerUsage(app);
  registerPrivacyRequests(app);
  const rules = rulesFromConfig(app.config);
  app.registry.registerExtension('DescribeRetentionPolicy', async () => ({
    Region: app.config.region,
    Rules: rules.map((r) => ({
      DataClass: r.dataClass,
      Holds: r.holds,
      RetentionSeconds: r.retainMs === null ? null : Math.round(r.retainMs / 1000),
      MaxBytes: r.maxBytes ?? null,
      DeletedBy: r.deletedBy,
    })),
  }));
}
