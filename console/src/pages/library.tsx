// Face library: groups, persons (paged, filterable), enrolment from a photo (with consent
// fields when the AppId requires them), and a 1:N search with ranked candidates and what their
// Scores mean.
import { useEffect, useState } from 'preact/hooks';
import { call, can, fileBase64 } from '../api.ts';
import { t } from '../i18n/index.ts';
import { ConfirmDialog, Empty, ErrorNote, FileDrop, Pager, Section, useLoad } from '../components/ui.tsx';

interface Group { GroupId: string; GroupName: string }
interface Person { PersonId: string; PersonName: string; Gender: number; FaceIds: string[] }
interface Candidate { PersonId: string; PersonName?: string; Score: number; FaceId?: string }

const GROUPS = 20, PERSONS = 10;

export function Library() {
  const [offset, setOffset] = useState(0);
  const groups = useLoad(() => call<{ GroupInfos: Group[]; GroupNum: number }>('iai', 'GetGroupList', { Offset: offset, Limit: GROUPS }), [offset]);
  const [groupId, setGroupId] = useState('');
  const [gid, setGid] = useState('');
  const [gname, setGname] = useState('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { if (!groupId && groups.data?.GroupInfos.length) setGroupId(groups.data.GroupInfos[0].GroupId); }, [groups.data]);

  const createGroup = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await call('iai', 'CreateGroup', { GroupId: gid.trim(), GroupName: gname.trim() });
      setGroupId(gid.trim());
      setGid(''); setGname('');
      groups.reload();
    } catch (err) { setError(err); }
  };
  const list = groups.data?.GroupInfos ?? [];
  const group = list.find((g) => g.GroupId === groupId);
  return (
    <div class="page">
      <h1>{t('lib.title')}</h1>
      <p class="muted lead">{t('lib.intro')}</p>
      <Section title={t('lib.groups')} id="groups-title">
        {can('iai', 'CreateGroup') && (
          <form class="row wrap inline-form" onSubmit={createGroup}>
            <div class="field"><label for="g-id">{t('lib.newGroupId')}</label><input id="g-id" required maxLength={64} pattern="[A-Za-z0-9\-%@#&_]+" value={gid} onInput={(e) => setGid((e.currentTarget as HTMLInputElement).value)} /></div>
            <div class="field grow"><label for="g-name">{t('lib.newGroupName')}</label><input id="g-name" required maxLength={60} value={gname} onInput={(e) => setGname((e.currentTarget as HTMLInputElement).value)} /></div>
            <button type="submit" class="btn primary">{t('lib.createGroup')}</button>
          </form>
        )}
        <ErrorNote error={error ?? groups.error} />
        {groups.loading && !groups.data ? <p class="muted">{t('common.loading')}</p> : list.length === 0 ? <Empty>{t('lib.noGroups')}</Empty> : (
          <div class="chips" role="group" aria-label={t('lib.groups')}>
            {list.map((g) => <button key={g.GroupId} type="button" class="chip" aria-pressed={g.GroupId === groupId} onClick={() => setGroupId(g.GroupId)}>{g.GroupName} <span class="muted mono small">{g.GroupId}</span></button>)}
          </div>
        )}
        <Pager offset={offset} limit={GROUPS} total={groups.data?.GroupNum ?? 0} onPage={setOffset} />
      </Section>
      {group && <Persons key={group.GroupId} group={group} />}
      {group && can('iai', 'SearchPersons') && <Search key={`s-${group.GroupId}`} group={group} />}
    </div>
  );
}

function Persons({ group }: { group: Group }) {
  const [offset, setOffset] = useState(0);
  const persons = useLoad(() => call<{ PersonInfos: Person[]; PersonNum: number }>('iai', 'GetPersonList', { GroupId: group.GroupId, Offset: offset, Limit: PERSONS }), [offset]);
  const [filter, setFilter] = useState('');
  const [confirm, setConfirm] = useState<Person | null>(null);
  const [error, setError] = useState<unknown>(null);
  const shown = (persons.data?.PersonInfos ?? []).filter((p) => !filter || `${p.PersonName} ${p.PersonId}`.toLowerCase().includes(filter.toLowerCase()));
  const remove = async (p: Person) => {
    try { await call('iai', 'DeletePerson', { PersonId: p.PersonId }); persons.reload(); } catch (err) { setError(err); }
  };
  return (
    <Section title={t('lib.persons', { name: group.GroupName })} id="persons-title">
      <div class="field">
        <label for="p-filter">{t('lib.filter')}</label>
        <input id="p-filter" type="search" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <ErrorNote error={error ?? persons.error} />
      {persons.loading && !persons.data ? <p class="muted">{t('common.loading')}</p> : (persons.data?.PersonInfos.length ?? 0) === 0 ? <Empty>{t('lib.noPersons')}</Empty> : (
        <table class="table" data-testid="persons">
          <thead><tr><th>{t('common.name')}</th><th>{t('lib.personId')}</th><th>{t('lib.faces')}</th><th>{t('common.actions')}</th></tr></thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.PersonId}>
                <td>{p.PersonName}</td><td class="mono">{p.PersonId}</td><td>{p.FaceIds?.length ?? 0}</td>
                <td>{can('iai', 'DeletePerson') && <button type="button" class="btn danger" onClick={() => setConfirm(p)}>{t('common.delete')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager offset={offset} limit={PERSONS} total={persons.data?.PersonNum ?? 0} onPage={setOffset} />
      {can('iai', 'CreatePerson') && <Enrol group={group} onDone={persons.reload} />}
      <ConfirmDialog open={!!confirm} title={t('lib.deletePersonTitle', { name: confirm?.PersonName ?? '' })} body={t('lib.deletePersonBody')}
        confirm={t('common.delete')} onConfirm={() => confirm && remove(confirm)} onClose={() => setConfirm(null)} />
    </Section>
  );
}

function Enrol({ group, onDone }: { group: Group; onDone: () => void }) {
  const policy = useLoad(() => can('facevault', 'DescribePrivacyPolicy') ? call<{ PrivacyPolicy: { RequireConsent: boolean } }>('facevault', 'DescribePrivacyPolicy') : Promise.resolve(null), []);
  const required = policy.data?.PrivacyPolicy.RequireConsent ?? false;
  const [f, setF] = useState({ id: '', name: '', ref: '', purpose: '', notice: '', endUser: '' });
  const [photo, setPhoto] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const [error, setError] = useState<unknown>(null);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!photo) return;
    setBusy(true); setError(null); setDone('');
    try {
      const consent = f.ref || f.purpose || f.notice ? { Consent: { Reference: f.ref, Purpose: f.purpose, NoticeVersion: f.notice } } : {};
      await call('iai', 'CreatePerson', {
        GroupId: group.GroupId, PersonId: f.id.trim(), PersonName: f.name.trim(), Image: await fileBase64(photo), ...consent, ...(f.endUser ? { EndUserId: f.endUser.trim() } : {}),
      });
      setDone(t('lib.enrolled', { name: f.name, id: f.id }));
      setF({ id: '', name: '', ref: '', purpose: '', notice: '', endUser: '' });
      setPhoto(null);
      onDone();
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <form class="enrol" onSubmit={submit} aria-labelledby="enrol-title">
      <h3 id="enrol-title">{t('lib.enrol')}</h3>
      <div class="grid2">
        <div class="field"><label for="e-id">{t('lib.personId')}</label><input id="e-id" required maxLength={64} value={f.id} onInput={set('id')} /></div>
        <div class="field"><label for="e-name">{t('lib.personName')}</label><input id="e-name" required maxLength={60} value={f.name} onInput={set('name')} /></div>
      </div>
      <FileDrop id="e-photo" label={t('lib.photo')} accept="image/jpeg,image/png,image/bmp" file={photo} onFile={setPhoto} hint={t('common.onlyServer')} />
      <fieldset>
        <legend>{required ? t('lib.consentRequired') : t('lib.consentOptional')}</legend>
        <div class="grid3">
          <div class="field"><label for="e-ref">{t('lib.consentRef')}</label><input id="e-ref" required={required} maxLength={256} value={f.ref} onInput={set('ref')} /></div>
          <div class="field"><label for="e-purpose">{t('lib.consentPurpose')}</label><input id="e-purpose" required={required} maxLength={512} value={f.purpose} onInput={set('purpose')} /></div>
          <div class="field"><label for="e-notice">{t('lib.consentNotice')}</label><input id="e-notice" required={required} maxLength={64} value={f.notice} onInput={set('notice')} /></div>
        </div>
        <div class="field"><label for="e-enduser">{t('lib.endUserId')}</label><input id="e-enduser" maxLength={128} value={f.endUser} onInput={set('endUser')} /></div>
      </fieldset>
      <ErrorNote error={error} />
      {done && <p class="note ok" role="status">{done}</p>}
      <button type="submit" class="btn primary" disabled={!photo || busy}>{t('lib.enrolSubmit')}</button>
    </form>
  );
}

const band = (s: number) => (s >= 60 ? '60' : s >= 50 ? '50' : s >= 40 ? '40' : '0') as '60' | '50' | '40' | '0';

function Search({ group }: { group: Group }) {
  const [photo, setPhoto] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [cands, setCands] = useState<Candidate[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (e: Event) => {
    e.preventDefault();
    if (!photo) return;
    setBusy(true); setError(null);
    try {
      const r = await call<{ Results: { Candidates: Candidate[] }[] }>('iai', 'SearchPersons', { GroupIds: [group.GroupId], Image: await fileBase64(photo), MaxPersonNum: 5, NeedPersonInfo: 1 });
      setCands(r.Results?.[0]?.Candidates ?? []);
    } catch (err) { setError(err); setCands(null); } finally { setBusy(false); }
  };
  return (
    <Section title={t('lib.search')} id="search-title">
      <form onSubmit={run} class="search-form">
        <FileDrop id="s-photo" label={t('lib.searchPhoto')} accept="image/jpeg,image/png,image/bmp" file={photo} onFile={setPhoto} hint={t('common.onlyServer')} />
        <button type="submit" class="btn primary" disabled={!photo || busy}>{t('lib.searchSubmit')}</button>
      </form>
      <p class="note info">{t('lib.scoreHelp')}</p>
      <ErrorNote error={error} />
      <div aria-live="polite" class="candidates" data-testid="candidates">
        {cands && (cands.length === 0 ? <Empty>{t('lib.noCandidates')}</Empty> : (
          <ol class="ranked">
            {cands.map((c) => (
              <li key={c.PersonId} data-person={c.PersonId}>
                <span class="cand-name">{c.PersonName ?? c.PersonId} <span class="muted mono small">{c.PersonId}</span></span>
                <span class={`score band-${band(c.Score)}`}>{t('lib.score')} {c.Score.toFixed(1)} · {t(`lib.band.${band(c.Score)}`)}</span>
              </li>
            ))}
          </ol>
        ))}
      </div>
    </Section>
  );
}
