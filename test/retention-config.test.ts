// Retention configuration: bounds are enforced at start (naming the variable), the effective
// policy is served by DescribeRetentionPolicy, and docs/PRIVACY.md's table is what the code generates.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { withRetentionTable } from '../src/services/privacy/privacy-doc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('retention configuration', () => {
  it('bad values stop the start with an error naming the variable', () => {
    const bad: [string, string, RegExp][] = [
      ['FACEVAULT_RETAIN_FUSED_IMAGE_DAYS', '9', /between 1 and 7 days/],
      ['FACEVAULT_RETAIN_FUSED_ULTRA_DAYS', 'soon', /number of days/],
      ['FACEVAULT_RETAIN_FUSION_LOG_DAYS', '0.5', /between 1 and 30 days/],
      ['FACEVAULT_RETAIN_VIDEO_DAYS', '2', /between 1 and 1 days/],
      ['FACEVAULT_RETENTION_SWEEP_SECONDS', '5', /between 10 and 86400/],
    ];
    for (const [name, value, msg] of bad) {
      let err: unknown;
      try { loadConfig({ [name]: value }); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(name);
      expect((err as Error).message).toMatch(msg);
    }
    const ok = loadConfig({ FACEVAULT_RETAIN_FUSED_IMAGE_DAYS: '2.5', FACEVAULT_RETENTION_SWEEP_SECONDS: '60' });
    expect(ok.retention).toEqual({ retainMs: { fused_result: 2.5 * 86_400_000 }, sweepIntervalMs: 60_000 });
  });

  it('docs/PRIVACY.md holds exactly the generated retention table (run `npm run docs:privacy`)', () => {
    const doc = fs.readFileSync(new URL('../docs/PRIVACY.md', import.meta.url), 'utf8');
    expect(withRetentionTable(doc)).toBe(doc);
  });
});

describe('DescribeRetentionPolicy', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ FACEVAULT_RETAIN_FUSED_IMAGE_DAYS: '3', FACEVAULT_ERROR_LOG_MAX_BYTES: String(64 * 1024 * 1024) });
  }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('serves the effective per-deployment values, and the change is in the audit log', async () => {
    const r = await t.common('facefusion').request('DescribeRetentionPolicy', {});
    const by = Object.fromEntries(r.Rules.map((x: any) => [x.DataClass, x]));
    expect(by.fused_result.RetentionSeconds).toBe(3 * 86400);
    expect(by.fused_result_ultra.RetentionSeconds).toBe(86400);
    expect(by.fusion_log.RetentionSeconds).toBe(7 * 86400);
    expect(by.error_log.MaxBytes).toBe(64 * 1024 * 1024);
    expect(by.face_feature.RetentionSeconds).toBeNull();
    const audited = await t.run.app.audit.last('retention.policy');
    expect((audited!.details.policy as any).fused_result).toEqual({ retainMs: 3 * 86_400_000 });
  });
});
