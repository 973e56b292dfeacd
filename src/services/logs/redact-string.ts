// How a string parameter enters a log. Only structural values are kept as sent: ids (which
// erasure finds records by) and a few enumerations; everything else could be personal or
// secret (names, descriptions, tags, a key pasted in the wrong field) and keeps its length
// only. A short value is not hashed: a hash of a name or phone number is as readable as the
// value to anyone with a list of guesses. Images and long strings keep their SHA-256, which
// identifies the payload without revealing it.
import crypto from 'node:crypto';

// ImageA/ImageB (CompareFace), ModelImage, LogoImage, VideoBase64...: any image/video field.
const PAYLOAD_KEY = /(Image|Images|Base64|Image[AB]|Video|Audio)$/;
// A payload under an unexpected key: a long run of base64 characters.
const BASE64_RUN = /[A-Za-z0-9+/]{128,}/;
// GroupId, PersonId, FaceIds, ActivityId, MaterialId, ProjectId, ModelId, TemplateFaceID, EndUserId...
const ID_KEY = /(Id|Ids|ID|IDs)$/;
const ENUM_KEYS = new Set([
  'Action', 'Version', 'Region', 'FaceModelVersion', 'RspImgType', 'Status', 'Month', 'Day', 'StartDate', 'EndDate',
  'Granularity', 'Service', 'Mode', 'Purpose', 'FaceAttributesType', 'NoticeVersion', 'SwapModelType', 'Language',
]);
const TOKEN = /^[A-Za-z0-9_.:@,-]{0,64}$/;
const URL_KEY = /(Url|Urls|URL)$/;

export type RedactedString = string | { redacted: true; bytes: number; sha256?: string; origin?: string };

export function redactString(value: string, key: string): RedactedString {
  const bytes = Buffer.byteLength(value);
  if (PAYLOAD_KEY.test(key) || value.length > 1024 || BASE64_RUN.test(value)) return { redacted: true, bytes, sha256: crypto.createHash('sha256').update(value).digest('hex') };
  if ((ID_KEY.test(key) || ENUM_KEYS.has(key)) && TOKEN.test(value)) return value;
  // Where an image was fetched from helps support; its path and query (signed URLs carry
  // credentials there) do not enter the log.
  if (URL_KEY.test(key)) {
    const origin = urlOrigin(value);
    return origin ? { redacted: true, bytes, origin } : { redacted: true, bytes };
  }
  return { redacted: true, bytes };
}

function urlOrigin(value: string): string | null {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}
