// Kysely table types. Times are unix milliseconds. Every table that holds customer data
// carries `data_class` and `expires_at` (null = until deleted) from the day a row is written,
// so retention is a property of the data, not of a later job's memory.
import type { Generated } from 'kysely';

export type DataClass =
  | 'account' | 'face_feature' | 'running_log' | 'error_log' | 'fusion_log'
  | 'material' | 'material_derivative' | 'fused_result' | 'video_result' | 'enrolment_image' | 'audit' | 'receipt';

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

export interface DB {
  apps: AppsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  running_log: RunningLogTable;
  blobs: BlobsTable;
}
