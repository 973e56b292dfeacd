// Fusion playground ("try the effect"): pick a material, one user photo per template face,
// FuseProfileDegree/FuseFaceDegree, template and result side by side, download. For a video
// material: SubmitVideoFaceFusionJob, watch QueryVideoFaceFusionJob, play the result.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, can, fileBase64, sameOriginUrl } from '../api.ts';
import { t } from '../i18n/index.ts';
import { Empty, ErrorNote, FileDrop, Progress, useLoad } from '../components/ui.tsx';
import { FaceImage } from '../components/faces.tsx';
import { isVideo, useMaterialImage, type Activity, type Material } from './activities.tsx';

export function Playground() {
  const acts = useLoad(() => call<{ Activities: Activity[] }>('facefusion', 'DescribeActivities', { Limit: 100 }), []);
  const [activityId, setActivityId] = useState('');
  const mats = useLoad(() => activityId ? call<{ MaterialInfos: Material[] }>('facefusion', 'DescribeMaterialList', { ActivityId: activityId, Limit: 20 }) : Promise.resolve({ MaterialInfos: [] as Material[] }), [activityId]);
  const [materialId, setMaterialId] = useState('');
  useEffect(() => { if (!activityId && acts.data?.Activities.length) setActivityId(acts.data.Activities[0].ActivityId); }, [acts.data]);
  useEffect(() => { const first = mats.data?.MaterialInfos[0]; setMaterialId(first ? first.MaterialId : ''); }, [mats.data]);
  const material = mats.data?.MaterialInfos.find((m) => m.MaterialId === materialId) ?? null;

  return (
    <div class="page">
      <h1>{t('play.title')}</h1>
      <p class="muted lead">{t('play.intro')}</p>
      <ErrorNote error={acts.error ?? mats.error} />
      {acts.data && acts.data.Activities.length === 0 ? <Empty>{t('play.noActivities')}</Empty> : (
        <div class="card row wrap">
          <div class="field grow">
            <label for="pg-activity">{t('play.activity')}</label>
            <select id="pg-activity" value={activityId} onChange={(e) => setActivityId((e.currentTarget as HTMLSelectElement).value)}>
              {(acts.data?.Activities ?? []).map((a) => <option key={a.ActivityId} value={a.ActivityId}>{a.ActivityName}</option>)}
            </select>
          </div>
          <div class="field grow">
            <label for="pg-material">{t('play.material')}</label>
            <select id="pg-material" value={materialId} onChange={(e) => setMaterialId((e.currentTarget as HTMLSelectElement).value)} disabled={!mats.data?.MaterialInfos.length}>
              {(mats.data?.MaterialInfos ?? []).map((m) => <option key={m.MaterialId} value={m.MaterialId}>{m.MaterialName || m.MaterialId}</option>)}
            </select>
          </div>
        </div>
      )}
      {activityId && mats.data && mats.data.MaterialInfos.length === 0 && <Empty>{t('play.noMaterials')}</Empty>}
      {material && (isVideo(material) ? <VideoTry key={material.MaterialId} activityId={activityId} material={material} /> : <ImageTry key={material.MaterialId} activityId={activityId} material={material} />)}
    </div>
  );
}

function Sliders({ profile, face, setProfile, setFace }: { profile: number; face: number; setProfile: (n: number) => void; setFace: (n: number) => void }) {
  return (
    <div class="sliders">
      <label for="pg-profile">{t('play.profile', { v: profile })}</label>
      <input id="pg-profile" type="range" min={0} max={100} value={profile} onInput={(e) => setProfile(+(e.currentTarget as HTMLInputElement).value)} />
      <label for="pg-face">{t('play.face', { v: face })}</label>
      <input id="pg-face" type="range" min={0} max={100} value={face} onInput={(e) => setFace(+(e.currentTarget as HTMLInputElement).value)} />
    </div>
  );
}

function ImageTry({ activityId, material }: { activityId: string; material: Material }) {
  const img = useMaterialImage(material.MaterialId);
  const faces = material.MaterialFaceList ?? [];
  const [photos, setPhotos] = useState<Record<string, File | null>>({});
  const [profile, setProfile] = useState(0);
  const [face, setFace] = useState(0);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ready = faces.length > 0 && faces.every((f) => photos[f.FaceId]);

  const fuse = async () => {
    setBusy(true);
    setError(null);
    try {
      const MergeInfos = await Promise.all(faces.map(async (f) => ({ Image: await fileBase64(photos[f.FaceId]!), TemplateFaceID: f.FaceId })));
      const r = await call<{ FusedImage: string }>('facefusion', 'FuseFace', { ProjectId: activityId, ModelId: material.MaterialId, RspImgType: 'base64', MergeInfos, FuseProfileDegree: profile, FuseFaceDegree: face });
      setResult(`data:image/jpeg;base64,${r.FusedImage}`);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <div class="card">
      <div class="photos">
        {faces.map((f) => (
          <FileDrop key={f.FaceId} id={`photo-${f.FaceId}`} label={t('play.userPhoto', { id: f.FaceId })} accept="image/jpeg,image/png" file={photos[f.FaceId] ?? null}
            onFile={(file) => setPhotos((p) => ({ ...p, [f.FaceId]: file }))} />
        ))}
      </div>
      <p class="muted small">{t('common.onlyServer')}</p>
      <Sliders profile={profile} face={face} setProfile={setProfile} setFace={setFace} />
      <div class="row">
        <button type="button" class="btn primary" disabled={!ready || busy} onClick={fuse}>{busy ? t('play.fusing') : t('play.fuse')}</button>
        {!ready && <span class="muted small">{t('play.needPhotos')}</span>}
      </div>
      <ErrorNote error={error} />
      <div class="side-by-side">
        <figure>
          <figcaption>{t('play.template')}</figcaption>
          <FaceImage src={img?.src ?? null} width={img?.width ?? 4} height={img?.height ?? 3} faces={img ? faces : []} alt={t('play.template')} />
        </figure>
        <figure>
          <figcaption>{t('play.result')}</figcaption>
          <div class="frame result" aria-live="polite" aria-busy={busy}>
            {result ? <img src={result} alt={t('play.result')} data-testid="fused" /> : <span class="muted">{t('play.resultEmpty')}</span>}
          </div>
          {/* Always there (disabled until a result exists), so nothing moves when it arrives. */}
          {result ? <a class="btn" href={result} download={`fused-${material.MaterialId}.jpg`}>{t('common.download')}</a> : <button type="button" class="btn" disabled>{t('common.download')}</button>}
        </figure>
      </div>
    </div>
  );
}

interface JobState { id: string; code: number; estimate: number; queue: number; started: number; url?: string; error?: string }

function VideoTry({ activityId, material }: { activityId: string; material: Material }) {
  const [photo, setPhoto] = useState<File | null>(null);
  const [job, setJob] = useState<JobState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(Date.now());
  const timer = useRef<number>(0);
  useEffect(() => () => clearInterval(timer.current), []);

  const submit = async () => {
    if (!photo) return;
    setError(null);
    try {
      const r = await call<{ JobId: string; EstimatedProcessTime?: number; JobQueueLength?: number }>('facefusion', 'SubmitVideoFaceFusionJob', {
        ProjectId: activityId, ModelId: material.MaterialId, MergeInfos: [{ Image: await fileBase64(photo) }],
      });
      const state: JobState = { id: r.JobId, code: 1, estimate: r.EstimatedProcessTime ?? 30, queue: r.JobQueueLength ?? 0, started: Date.now() };
      setJob(state);
      clearInterval(timer.current);
      timer.current = window.setInterval(async () => {
        setNow(Date.now());
        try {
          const q = await call<{ JobStatusCode: number; JobErrorMsg?: string; VideoFaceFusionOutput?: { VideoUrl?: string } }>('facefusion', 'QueryVideoFaceFusionJob', { JobId: r.JobId });
          setJob((j) => j && { ...j, code: q.JobStatusCode, url: q.VideoFaceFusionOutput?.VideoUrl ? sameOriginUrl(q.VideoFaceFusionOutput.VideoUrl) : undefined, error: q.JobErrorMsg });
          if (q.JobStatusCode === 5 || q.JobStatusCode === 7) clearInterval(timer.current);
        } catch (err) { setError(err); clearInterval(timer.current); }
      }, 1500);
    } catch (err) { setError(err); }
  };
  const unsupported = error instanceof ApiError && error.code === 'UnsupportedOperation';
  const frac = job ? (job.code === 7 ? 1 : Math.min(0.95, (now - job.started) / 1000 / Math.max(1, job.estimate))) : 0;
  return (
    <div class="card">
      <FileDrop id="video-photo" label={t('play.userPhoto', { id: '0' })} accept="image/jpeg,image/png" file={photo} onFile={setPhoto} hint={t('common.onlyServer')} />
      {can('facefusion', 'SubmitVideoFaceFusionJob') && <button type="button" class="btn primary" disabled={!photo || (job !== null && job.code < 5)} onClick={submit}>{t('play.videoSubmit')}</button>}
      {unsupported ? <p class="note warn">{t('play.videoNotAvailable', { message: (error as ApiError).message })}</p> : <ErrorNote error={error} />}
      {job && (
        <div class="job" data-testid="video-job" data-status={job.code}>
          <p>{t('play.videoStatus', { id: job.id, status: t(`play.videoStatus.${job.code}` as 'play.videoStatus.1') })}</p>
          {job.code < 5 && <p class="muted small">{t('play.videoEstimate', { s: job.estimate, q: job.queue })}</p>}
          <Progress value={frac} label={`${Math.round(frac * 100)}%`} />
          {job.error && <p class="note error">{job.error}</p>}
          {job.url && <video class="result-video" src={job.url} controls data-testid="video-result" />}
        </div>
      )}
    </div>
  );
}
