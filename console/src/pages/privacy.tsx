// Privacy centre: the effective retention policy, consent and minimum-age policy, deletion
// requests with their receipts, and the audit log with its chain verification.
import { useEffect, useState } from 'preact/hooks';
import { call, can } from '../api.ts';
import { fmtTime, t } from '../i18n/index.ts';
import { ConfirmDialog, Empty, ErrorNote, Pager, Section, useLoad } from '../components/ui.tsx';

interface Rule { DataClass: string; Holds: string; RetentionSeconds: number | null; DeletedBy: string }
interface Policy { RequireConsent: boolean; MinAge: number; InactivePersonDays: number; Overrides: string[] }
interface Receipt { RequestId: string; Scope: string; Status: string; CreatedTime: string; CompletedTime: string | null; Deleted: Record<string, number>; Digest: string | null }
interface AuditRec { Seq: number; Time: string; Actor: string; Action: string; Target: string | null }

export function Privacy() {
  return (
    <div class="page">
      <h1>{t('priv.title')}</h1>
      {can('facevault', 'DescribeRetentionPolicy') && <Retention />}
      {can('facevault', 'DescribePrivacyPolicy') && <PolicyForm />}
      {can('facevault', 'DescribeDeletionRequests') && <Deletions />}
      {can('facevault', 'DescribeAuditLog') && <Audit />}
    </div>
  );
}

function Retention() {
  const r = useLoad(() => call<{ Rules: Rule[] }>('facevault', 'DescribeRetentionPolicy'), []);
  return (
    <Section title={t('priv.retention')} intro={t('priv.retentionIntro')} id="ret-title">
      <ErrorNote error={r.error} />
      <div class="scroll-x">
        <table class="table">
          <thead><tr><th>{t('priv.dataClass')}</th><th>{t('priv.holds')}</th><th>{t('priv.kept')}</th><th>{t('priv.deletedBy')}</th></tr></thead>
          <tbody>
            {(r.data?.Rules ?? []).map((x) => (
              <tr key={x.DataClass}>
                <td class="mono">{x.DataClass}</td><td>{x.Holds}</td>
                <td class="nowrap">{x.RetentionSeconds === null ? t('priv.untilDeleted') : (Math.round(x.RetentionSeconds / 86400) === 1 ? t('priv.day1') : t('priv.days', { n: Math.round(x.RetentionSeconds / 86400) }))}</td>
                <td>{x.DeletedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function PolicyForm() {
  const p = useLoad(() => call<{ PrivacyPolicy: Policy }>('facevault', 'DescribePrivacyPolicy'), []);
  const [v, setV] = useState<Policy | null>(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (p.data) setV(p.data.PrivacyPolicy); }, [p.data]);
  const editable = can('facevault', 'SetPrivacyPolicy');
  const save = async (e: Event) => {
    e.preventDefault();
    if (!v) return;
    setError(null); setSaved(false);
    try {
      const r = await call<{ PrivacyPolicy: Policy }>('facevault', 'SetPrivacyPolicy', { RequireConsent: v.RequireConsent, MinAge: v.MinAge, InactivePersonDays: v.InactivePersonDays });
      setV(r.PrivacyPolicy);
      setSaved(true);
    } catch (err) { setError(err); }
  };
  const src = (k: string) => <span class="muted small">{v?.Overrides.includes(k) ? t('priv.own') : t('priv.default')}</span>;
  return (
    <Section title={t('priv.policy')} id="pol-title">
      <ErrorNote error={p.error ?? error} />
      {v && (
        <form onSubmit={save} class="policy">
          <div class="check">
            <input id="pol-consent" type="checkbox" checked={v.RequireConsent} disabled={!editable} onChange={(e) => setV({ ...v, RequireConsent: (e.currentTarget as HTMLInputElement).checked })} />
            <label for="pol-consent">{t('priv.requireConsent')}</label>{src('RequireConsent')}
          </div>
          <div class="grid2">
            <div class="field"><label for="pol-age">{t('priv.minAge')}</label><input id="pol-age" type="number" min={0} max={99} value={v.MinAge} disabled={!editable} onInput={(e) => setV({ ...v, MinAge: +(e.currentTarget as HTMLInputElement).value })} />{src('MinAge')}</div>
            <div class="field"><label for="pol-days">{t('priv.inactiveDays')}</label><input id="pol-days" type="number" min={0} max={36500} value={v.InactivePersonDays} disabled={!editable} onInput={(e) => setV({ ...v, InactivePersonDays: +(e.currentTarget as HTMLInputElement).value })} />{src('InactivePersonDays')}</div>
          </div>
          {editable && <button type="submit" class="btn primary">{t('common.save')}</button>}
          {saved && <p class="note ok" role="status">{t('priv.saved')}</p>}
        </form>
      )}
    </Section>
  );
}

function Deletions() {
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => call<{ DeletionRequests: Receipt[]; TotalCount: number }>('facevault', 'DescribeDeletionRequests', { Offset: offset, Limit: 10 }), [offset]);
  const [scope, setScope] = useState<'PersonId' | 'EndUserId'>('PersonId');
  const [subject, setSubject] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [last, setLast] = useState<Receipt | null>(null);
  const file = async () => {
    setError(null);
    try {
      const r = await call<{ DeletionRequest: Receipt }>('facevault', 'CreateDeletionRequest', { [scope]: subject.trim() });
      setLast(r.DeletionRequest);
      setSubject('');
      list.reload();
    } catch (err) { setError(err); }
  };
  const rows = list.data?.DeletionRequests ?? [];
  return (
    <Section title={t('priv.deletions')} intro={t('priv.deletionsIntro')} id="del-title">
      {can('facevault', 'CreateDeletionRequest') && (
        <form class="row wrap inline-form" onSubmit={(e) => { e.preventDefault(); setConfirm(true); }}>
          <div class="field"><label for="del-scope">{t('priv.scope')}</label>
            <select id="del-scope" value={scope} onChange={(e) => setScope((e.currentTarget as HTMLSelectElement).value as 'PersonId')}>
              <option value="PersonId">{t('priv.scope.PersonId')}</option>
              <option value="EndUserId">{t('priv.scope.EndUserId')}</option>
            </select>
          </div>
          <div class="field grow"><label for="del-subject">{t('priv.subject')}</label><input id="del-subject" required maxLength={128} value={subject} onInput={(e) => setSubject((e.currentTarget as HTMLInputElement).value)} /></div>
          <button type="submit" class="btn danger">{t('priv.file')}</button>
        </form>
      )}
      <ErrorNote error={error ?? list.error} />
      {last && <ReceiptView r={last} open />}
      {rows.length === 0 && !list.loading ? <Empty>{t('priv.noDeletions')}</Empty> : (
        <ul class="plain receipts" data-testid="receipts">{rows.map((r) => <li key={r.RequestId}><ReceiptView r={r} /></li>)}</ul>
      )}
      <Pager offset={offset} limit={10} total={list.data?.TotalCount ?? 0} onPage={setOffset} />
      <ConfirmDialog open={confirm} title={t('priv.fileTitle', { scope: t(`priv.scope.${scope}`), id: subject })} body={t('priv.fileBody')} confirm={t('priv.file')}
        onConfirm={file} onClose={() => setConfirm(false)} />
    </Section>
  );
}

function ReceiptView({ r, open }: { r: Receipt; open?: boolean }) {
  const erased = Object.entries(r.Deleted ?? {}).filter(([, n]) => n > 0);
  return (
    <details class="receipt" open={open} data-receipt={r.RequestId}>
      <summary><span class={`badge ${r.Status === 'DONE' ? 'ok' : ''}`}>{r.Status}</span> <span class="mono small">{r.RequestId}</span> · {r.Scope} · {fmtTime(r.CreatedTime)}</summary>
      <dl class="kv">
        <dt>{t('priv.erased')}</dt><dd>{erased.length ? erased.map(([k, n]) => `${k} ${n}`).join(', ') : t('common.none')}</dd>
        <dt>{t('priv.digest')}</dt><dd class="mono small break">{r.Digest ?? '—'}</dd>
      </dl>
    </details>
  );
}

function Audit() {
  const a = useLoad(() => call<{ Records: AuditRec[]; Verification: { Valid: boolean; HeadHash: string; Reason: string } }>('facevault', 'DescribeAuditLog', { Limit: 50 }), []);
  const v = a.data?.Verification;
  return (
    <Section title={t('priv.audit')} intro={t('priv.auditIntro')} id="audit-title">
      <ErrorNote error={a.error} />
      {v && <p class={`note ${v.Valid ? 'ok' : 'error'}`} data-testid="audit-verify">{v.Valid ? t('priv.auditValid', { hash: v.HeadHash.slice(0, 12) }) : t('priv.auditInvalid', { reason: v.Reason })}</p>}
      {a.data && a.data.Records.length === 0 ? <Empty>{t('priv.noAudit')}</Empty> : (
        <div class="scroll-x">
          <table class="table">
            <thead><tr><th>#</th><th>{t('priv.time')}</th><th>{t('priv.action')}</th><th>{t('priv.actor')}</th><th>{t('priv.target')}</th></tr></thead>
            <tbody>{(a.data?.Records ?? []).map((r) => <tr key={r.Seq}><td>{r.Seq}</td><td class="nowrap">{fmtTime(r.Time)}</td><td class="mono">{r.Action}</td><td class="mono small">{r.Actor}</td><td class="mono small break">{r.Target ?? ''}</td></tr>)}</tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
