// Activities & materials: create/publish/unpublish/delete activities; upload template images
// (and videos) with progress; each material with its faces outlined and numbered.
import { useEffect, useState } from 'preact/hooks';
import { call, can, upload } from '../api.ts';
import { fmtTime, t } from '../i18n/index.ts';
import { ConfirmDialog, Empty, ErrorNote, FileDrop, Pager, Progress, Section, useLoad } from '../components/ui.tsx';
import { FaceImage, type FaceBox } from '../components/faces.tsx';

export interface Activity { ActivityId: string; ActivityName: string; Status: 'DRAFT' | 'PUBLISHED'; CreateTime: string; FuseProfileDegree: number; FuseFaceDegree: number }
export interface Material { MaterialId: string; MaterialName: string; MaterialStatus: number; CreateTime: string; MaterialFaceList: FaceBox[]; MaterialType?: string; VideoInfo?: unknown }

const LIMIT = 20;

export function Activities() {
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => call<{ Activities: Activity[]; Count: number }>('facefusion', 'DescribeActivities', { Offset: offset, Limit: LIMIT }), [offset]);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Activity | null>(null);
  const [confirmCount, setConfirmCount] = useState(0);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await call<{ ActivityId: string }>('facefusion', 'CreateActivity', { ActivityName: name.trim() });
      setName('');
      setOpen(r.ActivityId);
      list.reload();
    } catch (err) { setError(err); }
  };
  const setStatus = async (a: Activity, status: 'DRAFT' | 'PUBLISHED') => {
    setError(null);
    try { await call('facefusion', 'ModifyActivity', { ActivityId: a.ActivityId, Status: status }); list.reload(); } catch (err) { setError(err); }
  };
  const askDelete = async (a: Activity) => {
    // Say how many materials go with it before asking.
    let n = 0;
    try { n = (await call<{ Count: number }>('facefusion', 'DescribeMaterialList', { ActivityId: a.ActivityId, Limit: 1 })).Count; } catch { /* count unknown */ }
    setConfirmCount(n);
    setConfirm(a);
  };
  const remove = async (a: Activity) => {
    setError(null);
    try { await call('facefusion', 'DeleteActivity', { ActivityId: a.ActivityId }); if (open === a.ActivityId) setOpen(null); list.reload(); } catch (err) { setError(err); }
  };

  const acts = list.data?.Activities ?? [];
  const opened = acts.find((a) => a.ActivityId === open);
  return (
    <div class="page">
      <h1>{t('act.title')}</h1>
      <p class="muted lead">{t('act.intro')}</p>
      {can('facefusion', 'CreateActivity') && (
        <form class="row card inline-form" onSubmit={create}>
          <div class="field grow">
            <label for="act-name">{t('act.newName')}</label>
            <input id="act-name" required maxLength={64} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="btn primary">{t('act.create')}</button>
        </form>
      )}
      <ErrorNote error={error ?? list.error} />
      <div class="card">
        {list.loading && !list.data ? <p class="muted">{t('common.loading')}</p> : acts.length === 0 ? <Empty>{t('act.empty')}</Empty> : (
          <table class="table" data-testid="activities">
            <thead><tr><th>{t('common.name')}</th><th>{t('common.status')}</th><th class="hide-sm">{t('common.created')}</th><th>{t('common.actions')}</th></tr></thead>
            <tbody>
              {acts.map((a) => (
                <tr key={a.ActivityId} class={a.ActivityId === open ? 'selected' : ''}>
                  <td><strong>{a.ActivityName}</strong><div class="muted small mono">{a.ActivityId}</div></td>
                  <td><span class={`badge ${a.Status === 'PUBLISHED' ? 'ok' : ''}`}>{t(a.Status === 'PUBLISHED' ? 'act.status.PUBLISHED' : 'act.status.DRAFT')}</span></td>
                  <td class="hide-sm">{fmtTime(a.CreateTime)}</td>
                  <td><div class="actions">
                    <button type="button" class="btn" aria-pressed={a.ActivityId === open} onClick={() => setOpen(a.ActivityId === open ? null : a.ActivityId)}>{t('act.open')}</button>
                    {can('facefusion', 'ModifyActivity') && (a.Status === 'PUBLISHED'
                      ? <button type="button" class="btn" onClick={() => setStatus(a, 'DRAFT')}>{t('act.unpublish')}</button>
                      : <button type="button" class="btn" onClick={() => setStatus(a, 'PUBLISHED')}>{t('act.publish')}</button>)}
                    {can('facefusion', 'DeleteActivity') && <button type="button" class="btn danger" onClick={() => askDelete(a)}>{t('common.delete')}</button>}
                  </div></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager offset={offset} limit={LIMIT} total={list.data?.Count ?? 0} onPage={setOffset} />
      </div>
      {opened && <Materials activity={opened} />}
      <ConfirmDialog open={!!confirm} title={t('act.deleteTitle', { name: confirm?.ActivityName ?? '' })} body={t('act.deleteBody', { n: confirmCount })}
        confirm={t('common.delete')} onConfirm={() => confirm && remove(confirm)} onClose={() => setConfirm(null)} />
    </div>
  );
}

function Materials({ activity }: { activity: Activity }) {
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => call<{ MaterialInfos: Material[]; Count: number }>('facefusion', 'DescribeMaterialList', { ActivityId: activity.ActivityId, Offset: offset, Limit: LIMIT }), [activity.ActivityId, offset]);
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<Material | null>(null);

  const send = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setProgress(0);
    try {
      await upload('facefusion', 'CreateMaterial', { ActivityId: activity.ActivityId, MaterialName: name.trim() || file.name.replace(/\.[^.]+$/, '').slice(0, 64) }, 'Image', file, setProgress);
      setFile(null);
      setName('');
      list.reload();
    } catch (err) { setError(err); } finally { setProgress(null); }
  };
  const remove = async (m: Material) => {
    try { await call('facefusion', 'DeleteMaterial', { MaterialId: m.MaterialId }); list.reload(); } catch (err) { setError(err); }
  };
  const mats = list.data?.MaterialInfos ?? [];
  return (
    <Section title={t('act.materials', { name: activity.ActivityName })} id="materials-title">
      {can('facefusion', 'CreateMaterial') && (
        <form class="upload" onSubmit={send}>
          <FileDrop id="material-file" label={t('act.upload')} accept="image/jpeg,image/png,video/mp4" file={file} onFile={setFile} hint={`${t('act.uploadHint')} ${t('common.onlyServer')}`} />
          <div class="field">
            <label for="material-name">{t('act.materialName')}</label>
            <input id="material-name" maxLength={64} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="upload-status">
            {progress !== null
              ? <Progress value={progress} label={progress < 1 ? t('act.uploading', { pct: Math.round(progress * 100) }) : t('act.analysing')} />
              : <button type="submit" class="btn primary" disabled={!file}>{t('act.uploadSubmit')}</button>}
          </div>
        </form>
      )}
      <ErrorNote error={error ?? list.error} />
      {list.loading && !list.data ? <p class="muted">{t('common.loading')}</p> : mats.length === 0 ? <Empty>{t('act.noMaterials')}</Empty> : (
        <ul class="materials" data-testid="materials">
          {mats.map((m) => <MaterialCard key={m.MaterialId} m={m} onDelete={() => setConfirm(m)} />)}
        </ul>
      )}
      <Pager offset={offset} limit={LIMIT} total={list.data?.Count ?? 0} onPage={setOffset} />
      <ConfirmDialog open={!!confirm} title={t('act.deleteMaterialTitle', { name: confirm?.MaterialName || confirm?.MaterialId || '' })} body={t('act.deleteMaterialBody')}
        confirm={t('common.delete')} onConfirm={() => confirm && remove(confirm)} onClose={() => setConfirm(null)} />
    </Section>
  );
}

export function useMaterialImage(materialId: string | null) {
  const [img, setImg] = useState<{ src: string; width: number; height: number } | null>(null);
  useEffect(() => {
    setImg(null);
    if (!materialId || !can('facefusion', 'DescribeMaterialImage')) return;
    let live = true;
    call<{ Image: string; ContentType: string; Width: number; Height: number }>('facefusion', 'DescribeMaterialImage', { MaterialId: materialId })
      .then((r) => { if (live) setImg({ src: `data:${r.ContentType};base64,${r.Image}`, width: r.Width, height: r.Height }); }, () => {});
    return () => { live = false; };
  }, [materialId]);
  return img;
}

// Video materials are MaterialStatus 31 (ready) and 32 (failed), as Tencent numbers them.
export const isVideo = (m: Material) => m.MaterialStatus === 31 || m.MaterialStatus === 32 || /video/i.test(m.MaterialType ?? '') || m.VideoInfo !== undefined;

function MaterialCard({ m, onDelete }: { m: Material; onDelete: () => void }) {
  const img = useMaterialImage(isVideo(m) ? null : m.MaterialId);
  const faces = m.MaterialFaceList ?? [];
  // Until the image arrives, a frame sized from the faces' extent keeps the layout still.
  const w = img?.width ?? 4, h = img?.height ?? 3;
  return (
    <li class="material" data-material={m.MaterialId}>
      {isVideo(m) ? <div class="video-badge">{t('act.video')}</div> : <FaceImage src={img?.src ?? null} width={w} height={h} faces={img ? faces : []} alt={m.MaterialName} />}
      <div class="material-body">
        <strong>{m.MaterialName || m.MaterialId}</strong>
        <div class="muted small mono">{m.MaterialId}</div>
        <div class="small" data-testid="face-count">{t('act.faces', { n: faces.length })} · {m.MaterialStatus === 21 || m.MaterialStatus === 31 ? t('act.ready') : m.MaterialStatus === 0 ? t('act.processing') : t('act.materialStatus', { status: m.MaterialStatus })}</div>
        <details class="small">
          <summary>{t('act.derived')}</summary>
          {img && <div>{t('act.size', { w: img.width, h: img.height })}</div>}
          <ul class="plain">
            {faces.map((f) => <li key={f.FaceId} class="mono">{t('act.faceN', { id: f.FaceId })}: X {f.FaceInfo.X}, Y {f.FaceInfo.Y}, {f.FaceInfo.Width}×{f.FaceInfo.Height}</li>)}
          </ul>
          <div class="muted">{fmtTime(m.CreateTime)}</div>
        </details>
        {can('facefusion', 'DeleteMaterial') && <button type="button" class="btn danger small-btn" onClick={onDelete}>{t('common.delete')}</button>}
      </div>
    </li>
  );
}
