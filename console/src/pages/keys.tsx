// Keys: sub-users with their allowed actions and key pairs; create a key (the SecretKey is
// shown once), edit a policy, disable/enable a key.
import { useState } from 'preact/hooks';
import { call, can } from '../api.ts';
import { fmtTime, t } from '../i18n/index.ts';
import { ConfirmDialog, Empty, ErrorNote, Section, useLoad } from '../components/ui.tsx';

interface Key { SecretId: string; Status: 'ACTIVE' | 'DISABLED'; CreateTime: string }
interface SubUser { SubUin: string; Name: string; IsRoot: boolean; Policy: string[]; Keys: Key[] }

const parsePolicy = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

export function Keys() {
  const users = useLoad(() => call<{ SubUsers: SubUser[] }>('facevault', 'DescribeSubUsers'), []);
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState('');
  const [created, setCreated] = useState<{ SecretId: string; SecretKey: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const create = async (e: Event, root = false) => {
    e.preventDefault();
    setError(null); setCreated(null);
    try {
      const r = await call<{ SecretId: string; SecretKey: string }>('facevault', 'CreateSubUserKey', root ? {} : { SubUser: name.trim(), ...(policy.trim() ? { Policy: parsePolicy(policy) } : {}) });
      setCreated(r);
      setName(''); setPolicy('');
      users.reload();
    } catch (err) { setError(err); }
  };
  const setStatus = async (id: string, enable: boolean) => {
    setError(null);
    try { await call('facevault', enable ? 'EnableKey' : 'DisableKey', { SecretId: id }); users.reload(); } catch (err) { setError(err); }
  };
  const list = users.data?.SubUsers ?? [];
  const subs = list.filter((u) => !u.IsRoot);
  return (
    <div class="page">
      <h1>{t('keys.title')}</h1>
      <p class="muted lead">{t('keys.intro')}</p>
      {can('facevault', 'CreateSubUserKey') && (
        <form class="card inline-form" onSubmit={(e) => create(e)}>
          <div class="grid2">
            <div class="field"><label for="k-user">{t('keys.newSubUser')}</label><input id="k-user" required maxLength={64} pattern="[A-Za-z0-9_.@\-]+" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} /></div>
            <div class="field"><label for="k-policy">{t('keys.newPolicy')}</label><input id="k-policy" value={policy} spellcheck={false} onInput={(e) => setPolicy((e.currentTarget as HTMLInputElement).value)} /></div>
          </div>
          <div class="row">
            <button type="submit" class="btn primary">{t('keys.create')}</button>
            <button type="button" class="btn" onClick={(e) => create(e, true)}>{t('keys.createRoot')}</button>
          </div>
        </form>
      )}
      {created && (
        <div class="card secret" role="status" data-testid="new-secret">
          <p><strong>{t('keys.secretOnce')}</strong></p>
          <dl class="kv"><dt>SecretId</dt><dd class="mono break">{created.SecretId}</dd><dt>{t('keys.secretKey')}</dt><dd class="mono break">{created.SecretKey}</dd></dl>
          <button type="button" class="btn" onClick={() => setCreated(null)}>{t('common.close')}</button>
        </div>
      )}
      <ErrorNote error={error ?? users.error} />
      {users.data && subs.length === 0 && <Empty>{t('keys.empty')}</Empty>}
      {list.map((u) => <UserCard key={u.SubUin} u={u} onToggle={(k) => (k.Status === 'ACTIVE' ? setConfirm(k.SecretId) : setStatus(k.SecretId, true))} onSaved={users.reload} />)}
      <ConfirmDialog open={!!confirm} title={t('keys.disableTitle', { id: confirm ?? '' })} body={t('keys.disableBody')} confirm={t('keys.disable')}
        onConfirm={() => confirm && setStatus(confirm, false)} onClose={() => setConfirm(null)} />
    </div>
  );
}

function UserCard({ u, onToggle, onSaved }: { u: SubUser; onToggle: (k: Key) => void; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(u.Policy.join(', '));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try { await call('facevault', 'SetSubUserPolicy', { SubUser: u.Name, Policy: parsePolicy(text) }); setEditing(false); setSaved(true); onSaved(); } catch (err) { setError(err); }
  };
  const id = `pol-${u.SubUin}`;
  return (
    <Section title={u.IsRoot ? `${u.Name} (${t('user.root')})` : u.Name} id={`user-${u.SubUin}`}>
      <p class="muted small mono">SubUin {u.SubUin}</p>
      <h3 class="h4">{t('keys.policy')}</h3>
      {editing ? (
        <form onSubmit={save} class="row wrap">
          <div class="field grow"><label for={id}>{t('keys.policy')}</label><input id={id} value={text} spellcheck={false} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} /></div>
          <button type="submit" class="btn primary">{t('common.save')}</button>
          <button type="button" class="btn" onClick={() => setEditing(false)}>{t('common.cancel')}</button>
        </form>
      ) : (
        <div class="row wrap">
          <div class="chips">{u.Policy.length ? u.Policy.map((p) => <span key={p} class="chip static mono">{p}</span>) : <span class="muted">{t('common.none')}</span>}</div>
          {!u.IsRoot && can('facevault', 'SetSubUserPolicy') && <button type="button" class="btn" onClick={() => setEditing(true)}>{t('keys.editPolicy')}</button>}
        </div>
      )}
      {saved && <p class="note ok" role="status">{t('keys.policySaved', { name: u.Name })}</p>}
      <ErrorNote error={error} />
      <h3 class="h4">{t('keys.keys')}</h3>
      <div class="scroll-x">
        <table class="table">
          <thead><tr><th>SecretId</th><th>{t('common.status')}</th><th class="hide-sm">{t('common.created')}</th><th>{t('common.actions')}</th></tr></thead>
          <tbody>
            {u.Keys.map((k) => (
              <tr key={k.SecretId} data-key={k.SecretId}>
                <td class="mono small break">{k.SecretId}</td>
                <td><span class={`badge ${k.Status === 'ACTIVE' ? 'ok' : 'off'}`}>{t(k.Status === 'ACTIVE' ? 'keys.ACTIVE' : 'keys.DISABLED')}</span></td>
                <td class="hide-sm nowrap">{fmtTime(k.CreateTime)}</td>
                <td>{can('facevault', k.Status === 'ACTIVE' ? 'DisableKey' : 'EnableKey') && <button type="button" class="btn" onClick={() => onToggle(k)}>{k.Status === 'ACTIVE' ? t('keys.disable') : t('keys.enable')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
