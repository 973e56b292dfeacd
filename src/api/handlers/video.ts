// Video face fusion, both dialects Tencent's SDKs speak (docs/API.md):
// - intl facefusion 2022-09-27: SubmitVideoFaceFusionJob / QueryVideoFaceFusionJob over a video
//   material (ProjectId + ModelId), one MergeInfo; JobStatusCode 1 queued, 3 processing, 5 failed, 7 done.
// - vclm 2024-05-23: SubmitVideoFaceFusionJob / DescribeVideoFaceFusionJob over the caller's
//   VideoUrl, up to 6 faces by TemplateFaceID; Status WAIT / RUN / FAIL / DONE.
// Extensions (absent from Tencent's SDKs, so off unless sent): CallbackUrl (a signed POST when the
// job ends), Cancel=1 on the query actions (cancels the job, then answers as usual), Progress.
import type { VideoModule } from '../../services/video/video-module.ts';
import type { JobView } from '../../services/video/video-jobs.ts';
import { Errors, TcError } from '../../domain/errors.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { field, int, optStr, str } from '../actions/fields.ts';
import { array, image, logoParam, mergeInfos, object, rect, text } from './fusion-params.ts';
import { endUserId } from './privacy-fields.ts';

const ID = str({ max: 64 });
const JOB_ID = str({ max: 64 });

/** CallbackUrl (extension): https only; delivered through the SSRF-guarded sender. */
const callbackUrl = () => field((v, name) => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw Errors.invalidParameter(name, 'must be a string');
  let u: URL;
  try { u = new URL(v); } catch { throw new TcError('InvalidParameterValue.UrlIllegal', `${name}: not a valid URL`); }
  if (u.protocol !== 'https:') throw new TcError('InvalidParameterValue.UrlIllegal', `${name}: only https URLs are accepted`);
  return v;
});

const cancelFlag = () => int(0, { values: [0, 1] });

const INTL_STATUS: Record<string, [number, string]> = {
  queued: [1, 'QUEUING'], running: [3, 'PROCESSING'], failed: [5, 'FAILED'], cancelled: [5, 'FAILED'], done: [7, 'DONE'],
};
const VCLM_STATUS: Record<string, string> = { queued: 'WAIT', running: 'RUN', failed: 'FAIL', cancelled: 'FAIL', done: 'DONE' };

const progress = (v: JobView) => ({ FramesDone: v.framesDone, FramesTotal: v.framesTotal });

const mapIntl = (v: JobView) => ({
  JobStatus: INTL_STATUS[v.status][1],
  JobStatusCode: INTL_STATUS[v.status][0],
  JobErrorCode: v.errorCode,
  JobErrorMsg: v.errorMessage,
  VideoFaceFusionOutput: v.output ? {
    VideoUrl: v.output.url, VideoMD5: v.output.md5, Width: v.output.width, Height: v.output.height,
    FPS: v.output.fps, DurationInSec: v.output.durationSec, Frame: v.output.frames,
  } : null,
  // facevault extension: progress of a running job.
  Progress: progress(v),
});

const mapVclm = (v: JobView) => ({
  JobId: v.jobId,
  Status: VCLM_STATUS[v.status],
  ErrorCode: v.status === 'failed' || v.status === 'cancelled' ? v.errorCode : '',
  ErrorMessage: v.status === 'failed' || v.status === 'cancelled' ? v.errorMessage : '',
  ResultVideoUrl: v.output?.url ?? '',
  Progress: progress(v),
});

/** intl MetaData[]: key/value pairs written into the result's container metadata. */
const metaData = () => field((v, name) => {
  const list = array(v, name) ?? [];
  if (list.length > 8) throw Errors.invalidValue(name, 'may hold at most 8 entries');
  return list.map((e, i) => {
    const f = `${name}.${i}`;
    const o = object(e, f);
    if (!o) throw Errors.invalidParameter(f, 'must be an object');
    return { key: text(o, 'MetaKey', `${f}.MetaKey`, { required: true, max: 32 })!, value: text(o, 'MetaValue', `${f}.MetaValue`, { required: true, max: 256 })! };
  });
});

/** vclm Image {Url|Base64}. */
function vclmImage(v: unknown, name: string) {
  const o = object(v, name);
  if (!o) throw Errors.missing(name);
  return image(o, 'Base64', 'Url', name);
}

const templateInfos = () => field((v, name) => {
  const list = array(v, name) ?? [];
  if (list.length > 6) throw new TcError('InvalidParameter.InvalidParameter', `${name}: at most 6 faces, got ${list.length}`);
  return list.map((e, i) => {
    const f = `${name}.${i}`;
    const o = object(e, f);
    if (!o) throw Errors.invalidParameter(f, 'must be an object');
    const id = text(o, 'TemplateFaceID', `${f}.TemplateFaceID`, { required: true, max: 16 })!;
    const img = o.TemplateFaceImage === undefined || o.TemplateFaceImage === null ? undefined : vclmImage(o.TemplateFaceImage, `${f}.TemplateFaceImage`);
    return { templateFaceId: id, image: img, rect: rect(o.TemplateFaceRect, `${f}.TemplateFaceRect`, 30) };
  });
});

const faceMergeInfos = () => field((v, name) => {
  const list = array(v, name);
  if (!list) throw Errors.missing(name);
  if (list.length < 1 || list.length > 6) throw new TcError('InvalidParameter.InvalidParameter', `${name}: 1 to 6 faces, got ${list.length}`);
  return list.map((e, i) => {
    const f = `${name}.${i}`;
    const o = object(e, f);
    if (!o) throw Errors.invalidParameter(f, 'must be an object');
    return {
      input: vclmImage(o.MergeFaceImage, `${f}.MergeFaceImage`),
      faceRect: rect(o.MergeFaceRect, `${f}.MergeFaceRect`, 30),
      templateFaceId: text(o, 'TemplateFaceID', `${f}.TemplateFaceID`, { max: 16 }),
    };
  });
});

export function videoActions(d: { video: VideoModule }): ActionDef<any>[] {
  const jobs = d.video.jobs;
  return [
    defineAction({
      owner: 'facefusion', name: 'SubmitVideoFaceFusionJob',
      params: {
        ProjectId: ID, ModelId: ID, MergeInfos: mergeInfos(false), LogoParam: logoParam(),
        UserDesignatedUrl: optStr({ max: 4096 }), MetaData: metaData(),
        // Tencent marks every result; LogoAdd=0 (as in FuseFace) drops the visible mark, never the metadata one.
        LogoAdd: int(1), CallbackUrl: callbackUrl(), EndUserId: endUserId(),
      },
      ignored: { CelebrityIdentify: 'deprecated by Tencent; no celebrity recognition here', UserIp: 'not used' },
      async handle(ctx, req) {
        if (req.MergeInfos.length !== 1) throw new TcError('InvalidParameterValue.ParameterValueError', `MergeInfos: video fusion takes exactly 1 entry, got ${req.MergeInfos.length}`);
        const m = req.MergeInfos[0];
        const r = await jobs.submitIntl(ctx.caller, {
          activityId: req.ProjectId, materialId: req.ModelId,
          merge: { input: m.input, faceRect: m.faceRect, templateFaceId: m.templateFaceId },
          logoAdd: req.LogoAdd !== 0, logo: req.LogoParam, userDesignatedUrl: req.UserDesignatedUrl, meta: req.MetaData,
          endUserId: req.EndUserId, callbackUrl: req.CallbackUrl,
        });
        ctx.record.result = { queued: true };
        return { JobId: r.jobId, EstimatedProcessTime: r.estimatedSec, JobQueueLength: r.queueLength, ReviewResultSet: [{ Category: '', Code: '0', CodeDescription: 'Success', Confidence: 0, Suggestion: 'PASS', DetailSet: [] }] };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'QueryVideoFaceFusionJob',
      params: { JobId: JOB_ID, Cancel: cancelFlag() },
      async handle(ctx, req) {
        const v = req.Cancel === 1 ? await jobs.cancel(ctx.caller, req.JobId, 'facefusion') : await jobs.view(ctx.caller, req.JobId, 'facefusion');
        return mapIntl(v);
      },
    }),

    defineAction({
      owner: 'vclm', name: 'SubmitVideoFaceFusionJob',
      params: {
        VideoUrl: str({ max: 4096 }), TemplateInfos: templateInfos(), MergeInfos: faceMergeInfos(),
        LogoAdd: int(1), LogoParam: logoParam(), CallbackUrl: callbackUrl(), EndUserId: endUserId(),
      },
      async handle(ctx, req) {
        const r = await jobs.submitVclm(ctx.caller, {
          videoUrl: req.VideoUrl, templates: req.TemplateInfos, merges: req.MergeInfos,
          logoAdd: req.LogoAdd !== 0, logo: req.LogoParam, endUserId: req.EndUserId, callbackUrl: req.CallbackUrl,
        });
        ctx.record.result = { queued: true };
        return { JobId: r.jobId };
      },
    }),

    defineAction({
      owner: 'vclm', name: 'DescribeVideoFaceFusionJob',
      params: { JobId: JOB_ID, Cancel: cancelFlag() },
      async handle(ctx, req) {
        const v = req.Cancel === 1 ? await jobs.cancel(ctx.caller, req.JobId, 'vclm') : await jobs.view(ctx.caller, req.JobId, 'vclm');
        return mapVclm(v);
      },
    }),
  ];
}
