// Every action's declared request fields against the official SDK's models: a field the SDK
// sends that we neither parse nor list as deliberately ignored would be refused as
// UnknownParameter (or silently mishandled), so it fails here first.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SDK_MODELS, ACTIONS, ownerOf } from '../src/api/actions/table.ts';
import { ActionRegistry } from '../src/api/actions/registry.ts';
import { allActions } from '../src/api/handlers/index.ts';

const require = createRequire(import.meta.url);
const sdkRoot = path.dirname(require.resolve('tencentcloud-sdk-nodejs/package.json'));

/** Request interfaces of one models file: name -> its top-level field names. */
function requestFields(file: string): Map<string, string[]> {
  const text = fs.readFileSync(path.join(sdkRoot, file), 'utf8');
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/export interface (\w+)Request \{([\s\S]*?)\n\}/g)) {
    out.set(m[1], [...m[2].matchAll(/^ {4}(\w+)\??:/gm)].map((f) => f[1]));
  }
  return out;
}

/** facefusion 2022-09-27 actions only the intl SDK has (tencentcloud-sdk-nodejs-intl-en facefusion/v20220927/models.js). */
const INTL_ONLY: Record<string, string[]> = {
  SubmitVideoFaceFusionJob: ['ProjectId', 'ModelId', 'MergeInfos', 'CelebrityIdentify', 'LogoParam', 'UserDesignatedUrl', 'UserIp', 'MetaData'],
  QueryVideoFaceFusionJob: ['JobId'],
};

// The services are not called here: the declarations only need objects to close over.
const stub = new Proxy({}, { get: () => stub }) as never;
const registry = new ActionRegistry(allActions({ clock: stub, region: 'ap-guangzhou', retention: [], vision: stub, library: stub, fusion: stub, privacy: stub, usage: stub, video: stub }));

describe('action declarations', () => {
  for (const service of ['iai', 'facefusion', 'vclm'] as const) {
    const sdk = requestFields(SDK_MODELS[service]);
    it(`${service}: the models file parses into request types`, () => {
      expect(sdk.size).toBeGreaterThan(service === 'iai' ? 30 : 1);
    });
    for (const action of [...ACTIONS[service]].sort()) {
      const def = registry.get(service, action);
      if (!def || ownerOf(service, action) !== service) continue;
      const fields = sdk.get(action);
      it(`${service}:${action} takes every field of the SDK's ${action}Request`, () => {
        const intl = INTL_ONLY[action];
        if (!fields && service === 'facefusion' && intl) {
          // The intl SDK's video dialect is not in the CN SDK: its fields as the intl models.js lists them.
          const declared = new Set([...Object.keys(def.params), ...Object.keys(def.ignored ?? {})]);
          expect(intl.filter((f) => !declared.has(f))).toEqual([]);
          return;
        }
        if (!fields) {
          // Our extensions have no SDK type; they must be documented as such.
          expect(def.name, `${service}:${action} has no SDK request type; only extensions may`).toMatch(/^(Create|Describe|Modify|Delete)(Activity|Activities|Material)$/);
          return;
        }
        const declared = new Set([...Object.keys(def.params), ...Object.keys(def.ignored ?? {})]);
        const missing = fields.filter((f) => !declared.has(f));
        expect(missing, `${service}:${action}: SDK fields neither parsed nor listed in 'ignored'`).toEqual([]);
      });
    }
  }

  it('declares each Tencent action of the table at most once and every declaration is in the table', () => {
    const names = registry.implemented();
    expect(new Set(names).size).toBe(names.length);
    for (const key of names) {
      const [s, a] = key.split(':') as ['iai', string];
      expect(ACTIONS[s].has(a)).toBe(true);
    }
  });

  it('parses with Tencent codes: missing, wrong type, unknown field, out of range', () => {
    const detect = registry.get('iai', 'DetectFace')!;
    const code = (p: Record<string, unknown>) => { try { detect.parse(p); return 'OK'; } catch (e) { return (e as { code: string }).code; } };
    expect(code({ Image: 'x' })).toBe('OK');
    expect(code({ Image: 'x', MaxFaceNum: '3' })).toBe('InvalidParameter');
    expect(code({ Image: 'x', MaxFaceNum: 121 })).toBe('InvalidParameterValue');
    expect(code({ Image: 'x', Bogus: 1 })).toBe('UnknownParameter');
    expect(code({ Image: 'x', NeedFaceAttributes: true })).toBe('InvalidParameter');
    expect(code({ Image: 'x', NeedFaceAttributes: null })).toBe('OK');
    const create = registry.get('iai', 'CreateGroup')!;
    expect(() => create.parse({ GroupId: 'g' })).toThrow(expect.objectContaining({ code: 'MissingParameter', message: expect.stringContaining('GroupName') }));
  });
});
