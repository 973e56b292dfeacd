// Who is calling and what the call adds to its running-log record: the vocabulary every layer
// shares, so services take a caller without knowing how the API authenticated it.

/** The Tencent APIs we serve, plus `facevault` for our own administrative extensions. */
export type ServiceName = 'iai' | 'facefusion' | 'vclm' | 'sts';
export type ActionOwner = ServiceName | 'facevault';

/** An authenticated caller: the tenant (AppId) and the root or sub-user behind the key. */
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
  /** The SecretId that signed the call (sts mints temporary credentials for it). */
  secretId?: string;
  record: CallRecord;
}
