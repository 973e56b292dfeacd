// Small building blocks shared by the pages: errors, empty states, file drop, confirmation
// dialog, pager. Every control has a visible label; dialogs are native <dialog> (focus trap
// and Escape for free).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { t } from '../i18n/index.ts';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError('Error', (error as Error)?.message ?? String(error));
  return (
    <p class="note error" role="alert">
      {t('common.error', { code: e.code, message: e.message })}
      {e.requestId && <span class="muted small"> · {t('common.requestId', { id: e.requestId })}</span>}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Section({ title, intro, children, id }: { title: string; intro?: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {intro && <p class="muted">{intro}</p>}
      {children}
    </section>
  );
}

/** A labelled file input that also takes a dropped file; shows the chosen image. */
export function FileDrop({ id, label, accept, file, onFile, hint }: { id: string; label: string; accept: string; file: File | null; onFile: (f: File | null) => void; hint?: string }) {
  const [over, setOver] = useState(false);
  const url = useObjectUrl(file);
  return (
    <div class={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); const f = e.dataTransfer?.files?.[0]; if (f) onFile(f); }}>
      <label for={id}>{label}</label>
      {/* The native input stays focusable (visually hidden); the visible button is its second label, in the console's language. */}
      <div class="pick-row">
        <input id={id} class="sr-only file" type="file" accept={accept} onChange={(e) => onFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
        <label for={id} class="btn pick" aria-hidden="true">{t('common.choose')}</label>
        <span class="small muted">{file ? file.name : ''}</span>
      </div>
      <div class="drop-preview" aria-hidden="true">
        {file && url && file.type.startsWith('image/') ? <img src={url} alt="" /> : <span class="muted small">{file ? file.name : t('common.dropHint')}</span>}
      </div>
      {hint && <p class="muted small">{hint}</p>}
    </div>
  );
}

export function useObjectUrl(file: Blob | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!file) { setUrl(null); return; }
    const u = URL.createObjectURL(file);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [file]);
  return url;
}

export function ConfirmDialog({ open, title, body, confirm, onConfirm, onClose }: { open: boolean; title: string; body: string; confirm: string; onConfirm: () => void; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dlg-title" onClose={onClose}>
      <h2 id="dlg-title">{title}</h2>
      <p>{body}</p>
      <div class="row end">
        <button type="button" class="btn" onClick={onClose}>{t('common.cancel')}</button>
        <button type="button" class="btn danger" onClick={() => { onConfirm(); onClose(); }}>{confirm}</button>
      </div>
    </dialog>
  );
}

export function Pager({ offset, limit, total, onPage }: { offset: number; limit: number; total: number; onPage: (offset: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / limit));
  const page = Math.floor(offset / limit) + 1;
  if (pages <= 1) return null;
  return (
    <nav class="row pager" aria-label={t('common.page', { page, pages })}>
      <button type="button" class="btn" disabled={page <= 1} onClick={() => onPage(offset - limit)}>{t('common.prev')}</button>
      <span class="muted">{t('common.page', { page, pages })}</span>
      <button type="button" class="btn" disabled={page >= pages} onClick={() => onPage(offset + limit)}>{t('common.next')}</button>
    </nav>
  );
}

export function Progress({ value, label }: { value: number; label: string }) {
  return (
    <div class="progress-wrap">
      <progress max={100} value={Math.round(value * 100)} aria-label={label} />
      <span class="small" aria-live="polite">{label}</span>
    </div>
  );
}

/** Loads data on mount and when `deps` change; `reload()` refetches. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then((data) => live && setState({ data, error: null, loading: false }), (error) => live && setState({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}
