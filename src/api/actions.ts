// The one table of wire-level actions. Every action of the services we emulate is listed,
// so a known-but-not-yet-implemented action answers UnsupportedOperation, never InvalidAction.
// The iai/facefusion/vclm names are those of tencentcloud-sdk-nodejs 4.1.313's clients.

export type ServiceName = 'iai' | 'facefusion' | 'vclm';

/** X-TC-Version -> service. The Node SDK derives the credential-scope service from the
 *  endpoint's first label, so the version, not the scope, tells us which API is meant. */
export const VERSIONS: Record<string, ServiceName> = {
  '2020-03-03': 'iai',
  '2022-09-27': 'facefusion',
  '2024-05-23': 'vclm',
};

const IAI = [
  'AnalyzeDenseLandmarks', 'AnalyzeFace', 'CompareFace', 'CompareMaskFace', 'CopyPerson', 'CreateFace', 'CreateGroup',
  'CreatePerson', 'DeleteFace', 'DeleteGroup', 'DeletePerson', 'DeletePersonFromGroup', 'DetectFace', 'DetectFaceAttributes',
  'DetectFaceSimilarity', 'DetectLiveFaceAccurate', 'GetGroupInfo', 'GetGroupList', 'GetPersonBaseInfo', 'GetPersonGroupInfo',
  'GetPersonList', 'GetPersonListNum', 'GetUpgradeGroupFaceModelVersionJobList', 'GetUpgradeGroupFaceModelVersionResult',
  'ModifyGroup', 'ModifyPersonBaseInfo', 'ModifyPersonGroupInfo', 'RevertGroupFaceModelVersion', 'SearchFaces',
  'SearchFacesReturnsByGroup', 'SearchPersons', 'SearchPersonsReturnsByGroup', 'UpgradeGroupFaceModelVersion',
  'VerifyFace', 'VerifyPerson',
  // The intl SDK's legacy liveness action.
  'DetectLiveFace',
] as const;

const FACEFUSION = [
  'DescribeMaterialList', 'FuseFace', 'FuseFaceUltra',
  // intl SDK's video dialect of facefusion 2022-09-27
  'SubmitVideoFaceFusionJob', 'QueryVideoFaceFusionJob',
  // facevault extensions: Tencent manages these in its console; we give them an API (docs/API.md).
  'CreateActivity', 'DescribeActivities', 'ModifyActivity', 'DeleteActivity', 'CreateMaterial', 'DeleteMaterial',
] as const;

const VCLM = ['SubmitVideoFaceFusionJob', 'DescribeVideoFaceFusionJob'] as const;

/** facevault extensions served under every version: privacy and usage (docs/API.md). */
export const EXTENSIONS = [
  'CreateDeletionRequest', 'DescribeDeletionRequests', 'DescribeRetentionPolicy', 'DescribeUsage',
  'SetPrivacyPolicy', 'DescribePrivacyPolicy',
] as const;

export const ACTIONS: Record<ServiceName, ReadonlySet<string>> = {
  iai: new Set<string>([...IAI, ...EXTENSIONS]),
  facefusion: new Set<string>([...FACEFUSION, ...EXTENSIONS]),
  vclm: new Set<string>([...VCLM, ...EXTENSIONS]),
};

export interface Caller {
  appId: number;
  uin: string;
  subUin: string;
}

/** What a handler may add to the running-log record of its call. */
export interface CallRecord {
  billed: boolean; // set false by handlers when, as Tencent bills, the call found no face
  personId?: string;
  endUserId?: string;
  result?: unknown;
}

export interface CallContext {
  caller: Caller;
  requestId: string;
  clientIp: string;
  region: string;
  service: ServiceName;
  action: string;
  record: CallRecord;
}

export type ActionHandler = (ctx: CallContext, params: Record<string, unknown>) => Promise<Record<string, unknown>>;

export class ActionRegistry {
  private readonly handlers = new Map<string, ActionHandler>();

  register(service: ServiceName | ServiceName[], action: string, handler: ActionHandler): void {
    for (const s of Array.isArray(service) ? service : [service]) {
      if (!ACTIONS[s].has(action)) throw new Error(`${s}:${action} is not in the action table`);
      this.handlers.set(`${s}:${action}`, handler);
    }
  }

  /** Registers an extension action under every service. */
  registerExtension(action: (typeof EXTENSIONS)[number], handler: ActionHandler): void {
    this.register(['iai', 'facefusion', 'vclm'], action, handler);
  }

  get(service: ServiceName, action: string): ActionHandler | undefined {
    return this.handlers.get(`${service}:${action}`);
  }

  implemented(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
