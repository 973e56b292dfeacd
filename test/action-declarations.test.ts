// Every action's declared request fields against the official SDK's models: a field the SDK
// sends that we neither parse nor list as deliberately ignored would be refused as
// UnknownParameter (or silently mishandled), so it fails here first.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SDK_MODELS, ACTIONS, CURRENT_VERSION, VERSIONS, VERSION_ACTIONS, ownerOf } from '../src/api/actions/table.ts';
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
const registry = new ActionRegistry(allActions({ clock: stub, region: 'ap-guangzhou', retention: [], vision: stub, library: stub, fusion: stub, privacy: stub, usage: stub, accounts: stub, audit: stub, video: stub }));

/** facevault's documented request extensions (docs/API.md), accepted beside Tencent's fields. */
const EXTENSION_FIELDS = new Set(['EndUserId', 'ParentalConsent', 'Consent', 'ConsentId', 'KeepEnrolmentImages']);

describe('action declarations', () => {
  // Every version, older ones included: an older version's action served by the current
  // declaration must take exactly its own SDK model's fields too.
  for (const [version, service] of Object.entries(VERSIONS)) {
    const sdk = requestFields(SDK_MODELS[version]);
    it(`${service} ${version}: the models file parses into request types`, () => {
      expect(sdk.size).toBeGreaterThan(service === 'iai' ? 30 : 1);
    });
    for (const action of [...VERSION_ACTIONS[version]].sort()) {
      const def = registry.get(service, action, version);
      if (!def || ownerOf(service, action) !== service) continue;
      const fields = sdk.get(action);
      it(`${service} ${version}:${action} takes every field of the SDK's ${action}Request, and no other Tencent field`, () => {
        const intl = INTL_ONLY[action];
        if (!fields && service === 'facefusion' && intl) {
          // The intl SDK's video dialect is not in the CN SDK: its fields as the intl models.js lists them.
          const declared = new Set([...Object.keys(def.params), ...Object.keys(def.ignored ?? {})]);
          expect(intl.filter((f) => !declared.has(f))).toEqual([]);
          return;
        }
        if (!fields) {
          // Our extensions have no SDK type; they must be documented as such.
          expect(def.name, `${service}:${action} has no SDK request type; only extensions may`).toMatch(/^(Create|Describe|Modify|Delete)(Activity|Activities|Material|MaterialImage)$/);
          return;
        }
        const declared = new Set([...Object.keys(def.params), ...Object.keys(def.ignored ?? {})]);
        const missing = fields.filter((f) => !declared.has(f));
        expect(missing, `${service} ${version}:${action}: SDK fields neither parsed nor listed in 'ignored'`).toEqual([]);
        // Under an older version, fields its SDK does not have (the current version's, e.g. 2020's
        // FaceMatchingStrategy under 2018) would be taken silently; only our extensions may be extra.
        if (CURRENT_VERSION[service] === version) return;
        const extra = [...declared].filter((f) => !fields.includes(f) && !EXTENSION_FIELDS.has(f));
        expect(extra, `${service} ${version}:${action}: fields its SDK model does not have`).toEqual([]);
      });
    }
  }

  it('declares each Tencent action of the table at most once and every declaration is in the table', () => {
    const names = registry.implemented();
    expect(new Set(names).size).toBe(names.length);
    for (const key of names) {
      const [sv, a] = key.split(':') as [string, string];
      const [s, v] = sv.split('@') as ['iai', string | undefined];
      expect(v ? VERSIONS[v] === s && VERSION_ACTIONS[v].has(a) : ACTIONS[s].has(a), key).toBe(true);
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
    // Display text refuses control, bidi-override and zero-width characters (console spoofing).
    const group = registry.get('iai', 'CreateGroup')!;
    const groupCode = (name: string) => { try { group.parse({ GroupId: 'g', GroupName: name }); return 'OK'; } catch (e) { return (e as { code: string }).code; } };
    expect(groupCode('Team A')).toBe('OK');
    expect(groupCode('Team \u202eA')).toBe('InvalidParameterValue.GroupNameIllegal');
    expect(groupCode('Team\u0007')).toBe('InvalidParameterValue.GroupNameIllegal');
    expect(groupCode('Te\u200bam')).toBe('InvalidParameterValue.GroupNameIllegal');
    const person = registry.get('iai', 'ModifyPersonBaseInfo')!;
    expect(() => person.parse({ PersonId: 'p', PersonName: 'Eve\u2066' })).toThrow(expect.objectContaining({ code: 'InvalidParameterValue.PersonNameIllegal' }));
    // Need* flags are integers; any other JSON type is refused rather than guessed at.
    for (const bad of ['1', true, [1], { v: 1 }]) expect(code({ Image: 'x', NeedQualityDetection: bad })).toBe('InvalidParameter');
    expect(code({ Image: 'x', NeedQualityDetection: 2 })).toBe('OK'); // Tencent: any integer but 1 means no
    const create = registry.get('iai', 'CreateGroup')!;
    expect(() => create.parse({ GroupId: 'g' })).toThrow(expect.objectContaining({ code: 'MissingParameter', message: expect.stringContaining('GroupName') }));
  });
});
