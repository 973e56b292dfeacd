// The one table of wire-level action names. Every action of the services we emulate is listed,
// so a known-but-not-yet-implemented action answers UnsupportedOperation, never InvalidAction.
// The iai/facefusion/vclm names are those of tencentcloud-sdk-nodejs 4.1.313's clients.
import type { ActionOwner, ServiceName } from '../../domain/call.ts';

/** X-TC-Version -> service. The Node SDK derives the credential-scope service from the
 *  endpoint's first label, so the version, not the scope, tells us which API is meant. */
export const VERSIONS: Record<string, ServiceName> = {
  '2020-03-03': 'iai',
  '2022-09-27': 'facefusion',
  '2024-05-23': 'vclm',
  '2018-08-13': 'sts',
  // Older versions still in every SDK: the same services, their own action sets (VERSION_ACTIONS).
  '2018-03-01': 'iai',
  '2018-12-01': 'facefusion',
};

/** Each service's current version: a declaration without `version` is for this one. */
export const CURRENT_VERSION: Record<ServiceName, string> = {
  iai: '2020-03-03', facefusion: '2022-09-27', vclm: '2024-05-23', sts: '2018-08-13',
};

/** The SDK's models file for each version, which test/action-declarations.test.ts compares with. */
export const SDK_MODELS: Record<string, string> = {
  '2020-03-03': 'tencentcloud/services/iai/v20200303/iai_models.d.ts',
  '2022-09-27': 'tencentcloud/services/facefusion/v20220927/facefusion_models.d.ts',
  '2024-05-23': 'tencentcloud/services/vclm/v20240523/vclm_models.d.ts',
  '2018-08-13': 'tencentcloud/services/sts/v20180813/sts_models.d.ts',
  '2018-03-01': 'tencentcloud/services/iai/v20180301/iai_models.d.ts',
  '2018-12-01': 'tencentcloud/services/facefusion/v20181201/facefusion_models.d.ts',
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

/** facevault extensions of facefusion: Tencent manages these in its console; we give them an API (docs/API.md). */
export const FUSION_EXTENSIONS = [
  'CreateActivity', 'DescribeActivities', 'ModifyActivity', 'DeleteActivity', 'CreateMaterial', 'DeleteMaterial', 'DescribeMaterialImage',
] as const;

const FACEFUSION = [
  'DescribeMaterialList', 'FuseFace', 'FuseFaceUltra',
  // intl SDK's video dialect of facefusion 2022-09-27
  'SubmitVideoFaceFusionJob', 'QueryVideoFaceFusionJob',
  ...FUSION_EXTENSIONS,
] as const;

const VCLM = ['SubmitVideoFaceFusionJob', 'DescribeVideoFaceFusionJob'] as const;

/** sts 2018-08-13: temporary credentials. Only GetFederationToken is served (no CAM roles here). */
const STS = ['GetFederationToken', 'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetCallerIdentity', 'GetSessionToken', 'QueryApiKey'] as const;

/**
 * facevault's administrative extensions (privacy and usage, docs/API.md). They answer under
 * every version, but for authorisation they belong to `facevault` alone, and only root or a
 * policy that names the action itself may call them: `*` and `iai:*` do not (docs/SECURITY.md).
 */
export const ADMIN_EXTENSIONS = [
  'CreateDeletionRequest', 'DescribeDeletionRequests', 'DescribeRetentionPolicy', 'DescribeUsage',
  'SetPrivacyPolicy', 'DescribePrivacyPolicy', 'DescribeUsageLatency',
  // Keys and audit (the console's Keys and Privacy pages)
  'DescribeSubUsers', 'CreateSubUserKey', 'SetSubUserPolicy', 'DisableKey', 'EnableKey', 'DescribeAuditLog',
] as const;

/** Every action name each version answers (owned by that service or by facevault). */
export const ACTIONS: Record<ServiceName, ReadonlySet<string>> = {
  iai: new Set<string>([...IAI, ...ADMIN_EXTENSIONS]),
  facefusion: new Set<string>([...FACEFUSION, ...ADMIN_EXTENSIONS]),
  vclm: new Set<string>([...VCLM, ...ADMIN_EXTENSIONS]),
  // Not the admin extensions: sts is for credentials, not for the face APIs' administration.
  sts: new Set<string>(STS),
};

/** iai 2018-03-01: the 2020-03-03 actions less CompareMaskFace, DetectFaceSimilarity and liveness (its SDK client's 32). */
const IAI_2018 = IAI.filter((a) => !['CompareMaskFace', 'DetectFaceSimilarity', 'DetectLiveFaceAccurate', 'DetectLiveFace'].includes(a));
/** facefusion 2018-12-01: FaceFusion (one image), FuseFace and DescribeMaterialList in their 2018 shapes. */
const FACEFUSION_2018 = ['DescribeMaterialList', 'FaceFusion', 'FuseFace'] as const;

/** Every action name each version answers. */
export const VERSION_ACTIONS: Record<string, ReadonlySet<string>> = {
  '2020-03-03': ACTIONS.iai,
  '2022-09-27': ACTIONS.facefusion,
  '2024-05-23': ACTIONS.vclm,
  '2018-08-13': ACTIONS.sts,
  '2018-03-01': new Set<string>([...IAI_2018, ...ADMIN_EXTENSIONS]),
  '2018-12-01': new Set<string>([...FACEFUSION_2018, ...ADMIN_EXTENSIONS]),
};

const ADMIN = new Set<string>(ADMIN_EXTENSIONS);

/** The one service an action belongs to for authorisation, whatever version header carried it. */
export function ownerOf(service: ServiceName, action: string): ActionOwner {
  return ADMIN.has(action) ? 'facevault' : service;
}
