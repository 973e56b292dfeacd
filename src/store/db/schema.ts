// Kysely table types. Times are unix milliseconds. Every table that holds customer data
// carries `data_class` and `expires_at` (null = until deleted) from the day a row is written,
// so retention is a property of the data, not of a later job's memory.
import type { Generated } from 'kysely';

export type DataClass =
  | 'account' | 'face_feature' | 'running_log' | 'error_log' | 'fusion_log'
  | 'material' | 'material_derivative' | 'fused_result' | 'video_result' | 'enrolment_image' | 'audit' | 'receipt' | 'consent' | 'privacy_policy' | 'console_session';

export interface AppsTable {
  app_id: number;
  name: string;
  root_uin: string;
  status: string; // active | deleted
  data_key_wrapped: Buffer | null; // null after crypto-shredding
  created_at: number;
}

export interface UsersTable {
  sub_uin: string; // root users have sub_uin = uin
  app_id: number;
  uin: string;
  name: string;
  is_root: number;
  policy: string; // JSON array of "service:Action" patterns
  created_at: number;
}

export interface ApiKeysTable {
  secret_id: string;
  app_id: number;
  sub_uin: string;
  secret_key_enc: Buffer; // AES-256-GCM under the master key; needed in clear to verify HMACs
  status: string; // active | disabled
  created_at: number;
}

/** A console sign-in; the token itself is only in the browser's HttpOnly cookie. */
export interface ConsoleSessionsTable {
  token_hash: string;
  app_id: number;
  sub_uin: string;
  secret_id: string;
  created_at: number;
  last_seen_at: number;
  data_class: string; // 'console_session'
  expires_at: number;
}

export interface RunningLogTable {
  id: string;
  request_id: string;
  time: number;
  app_id: number | null;
  uin: string | null;
  sub_uin: string | null;
  client_ip: string;
  service: string;
  action: string;
  region: string;
  billed: number;
  code: string; // "" on success, else the error code
  latency_ms: number;
  person_id: string | null;
  end_user_id: string | null;
  result: string | null; // JSON summary of the recognition result
  data_class: Generated<string>;
  expires_at: number | null;
}

export interface BlobsTable {
  key: string;
  app_id: number;
  data_class: string;
  expires_at: number | null;
  size: number;
  content_type: string;
  owner_ref: string | null; // id of the record the blob belongs to (material id, job id...)
  created_at: number;
}

export interface FusionActivitiesTable {
  activity_id: string;
  app_id: number;
  name: string;
  status: string; // draft | published
  profile_degree: number;
  face_degree: number;
  created_at: number;
  updated_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface FusionMaterialsTable {
  material_id: string;
  app_id: number;
  activity_id: string;
  name: string;
  status: number; // Tencent's MaterialStatus (21 = machine-approved)
  blob_key: string;
  width: number;
  height: number;
  created_at: number;
  updated_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface FusionMaterialFacesTable {
  material_id: string;
  face_index: number;
  app_id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  geometry: Buffer; // float32 x/y pairs: 5 key points, then the dense mesh
  stats: string; // JSON colour statistics
  data_class: string;
  expires_at: number | null;
}

export interface FusionResultsTable {
  token: string;
  app_id: number;
  blob_key: string;
  request_id: string;
  activity_id: string | null;
  material_id: string | null;
  created_at: number;
  end_user_id?: string | null; // added by 005-privacy
  data_class: string;
  expires_at: number | null;
}

export interface FusionLogTable {
  id: string;
  time: number;
  app_id: number;
  uin: string;
  sub_uin: string;
  request_id: string;
  client_ip: string;
  latency_ms: number;
  region: string;
  action: string;
  activity_id: string | null;
  material_id: string | null;
  image_urls: string; // JSON array
  result_url: string | null;
  code: string;
  end_user_id?: string | null; // added by 005-privacy
  data_class: string;
  expires_at: number | null;
}

export interface FaceGroupsTable {
  app_id: number;
  group_id: string;
  name: string;
  ex_descriptions: string; // JSON string[]
  tag: string;
  face_model_version: string;
  keep_images: number;
  created_at: number;
  updated_at: number;
  last_used_at: number;
  data_class: string;
  expires_at: number | null;
  /** The group's members and their faces, kept by every library write (migration 011). */
  person_num: Generated<number>;
  face_num: Generated<number>;
}

export interface PersonsTable {
  app_id: number;
  person_id: string;
  name: string;
  gender: number;
  face_model_version: string;
  combined_feature: Buffer | null; // sealed
  end_user_id: string | null;
  created_at: number;
  updated_at: number;
  last_used_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface GroupPersonsTable {
  app_id: number;
  group_id: string;
  person_id: string;
  ex_descriptions: string; // JSON string[] aligned with the group's fields
  created_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface FacesTable {
  app_id: number;
  face_id: string;
  person_id: string;
  feature: Buffer; // sealed float32[512]
  face_rect: string; // JSON
  image_key: string | null;
  created_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface LibrarySeqTable { app_id: number; seq: number }

export interface LibraryChangesTable {
  app_id: number;
  seq: number;
  kind: string; // person | group
  ref: string;
  created_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface AuditLogTable {
  seq: number;
  time: number;
  actor: string;
  action: string;
  app_id: number | null;
  target: string | null;
  details: string; // JSON object
  prev_hash: string;
  hash: string;
  data_class: string;
  expires_at: number | null;
}

// ---- privacy (005-privacy)
export interface PrivacyPoliciesTable {
  app_id: number;
  require_consent: number | null; // null = deployment default
  min_age: number | null;
  inactive_person_days: number | null;
  updated_at: number;
  updated_by: string;
  data_class: string;
  expires_at: number | null;
}

export interface ConsentsTable {
  app_id: number;
  consent_id: string;
  person_id: string;
  face_ids: string; // JSON string[]
  reference: string;
  purpose: string;
  notice_version: string;
  retention_days: number | null;
  parental_reference: string | null;
  sub_uin: string;
  given_at: number;
  end_user_id: string | null;
  data_class: string;
  expires_at: number | null;
}

export interface DeletionRequestsTable {
  request_id: string;
  app_id: number;
  scope: string; // person | end_user | app
  subject_digest: string;
  subject_sealed: Buffer | null;
  status: string; // running | done
  requested_by: string;
  created_at: number;
  completed_at: number | null;
  attempts: number;
  receipt: string | null;
  digest: string | null;
  data_class: string;
  expires_at: number | null;
  /** The process running the request and until when (migration 010); null/0 when none. */
  lease_owner: string | null;
  lease_until: number;
}

export interface FaceUpgradeJobsTable {
  app_id: number;
  job_id: string;
  group_id: string;
  from_version: string;
  to_version: string;
  status: number; // 0 running, 1 done, 2 reverted, 3 failed
  progress: number;
  error: string | null;
  start_time: number;
  end_time: number;
  data_class: string;
  expires_at: number | null;
  /** The process running the job and until when (migration 010). */
  lease_owner: string | null;
  lease_until: number;
}

export interface FaceAltFeaturesTable {
  app_id: number;
  person_id: string;
  face_id: string; // '' = combined feature
  model_version: string;
  feature: Buffer;
  data_class: string;
  expires_at: number | null;
}

export interface FederationTokensTable {
  tmp_secret_id: string;
  app_id: number;
  parent_secret_id: string;
  token_hash: string; // hex SHA-256 of the token
  tmp_secret_key_enc: Buffer; // sealed like api_keys.secret_key_enc
  name: string;
  session_policy: string; // JSON {allow, deny}
  created_at: number;
  expires_at: number;
}

export interface VideoMaterialsTable {
  material_id: string;
  app_id: number;
  activity_id: string;
  state: string; // tracking | ready | failed
  info: string;
  tracks_key: string | null;
  error: string | null;
  tracking_ms: number | null;
  created_at: number;
  data_class: string;
  expires_at: number | null;
}

export interface VideoJobsTable {
  job_id: string;
  app_id: number;
  dialect: string; // facefusion | vclm
  activity_id: string | null;
  material_id: string | null;
  status: string; // queued | running | failed | done | cancelled
  params: string;
  input_keys: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: number | null;
  frames_done: number;
  frames_total: number;
  error_code: string | null;
  error_message: string | null;
  result_key: string | null;
  result: string | null;
  callback_url: string | null;
  end_user_id: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  data_class: string;
  expires_at: number | null;
}

export interface DB {
  apps: AppsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  running_log: RunningLogTable;
  blobs: BlobsTable;
  face_groups: FaceGroupsTable;
  persons: PersonsTable;
  group_persons: GroupPersonsTable;
  faces: FacesTable;
  library_seq: LibrarySeqTable;
  library_changes: LibraryChangesTable;
  fusion_activities: FusionActivitiesTable;
  fusion_materials: FusionMaterialsTable;
  fusion_material_faces: FusionMaterialFacesTable;
  fusion_results: FusionResultsTable;
  fusion_log: FusionLogTable;
  privacy_policies: PrivacyPoliciesTable;
  consents: ConsentsTable;
  deletion_requests: DeletionRequestsTable;
  audit_log: AuditLogTable;
  face_upgrade_jobs: FaceUpgradeJobsTable;
  face_alt_features: FaceAltFeaturesTable;
  console_sessions: ConsoleSessionsTable;
  federation_tokens: FederationTokensTable;
  video_materials: VideoMaterialsTable;
  video_jobs: VideoJobsTable;
}
