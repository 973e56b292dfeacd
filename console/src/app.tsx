// The shell: sign-in gate, header (who, language, sign out), the sections this key may use,
// and hash routes (#/activities …) so reloads and links work without server routes.
import { useEffect, useState } from 'preact/hooks';
import { can, currentSession, loadActions, onSessionEnded, signOut, type User } from './api.ts';
import { initialLang, lang, LANGS, setLang, t, type Lang } from './i18n/index.ts';
import type { MessageKey } from './i18n/en.ts';
import { SignIn } from './pages/sign-in.tsx';
import { Activities } from './pages/activities.tsx';
import { Playground } from './pages/playground.tsx';
import { Library } from './pages/library.tsx';
import { Privacy } from './pages/privacy.tsx';
import { Usage } from './pages/usage.tsx';
import { Keys } from './pages/keys.tsx';

interface Page { id: string; label: MessageKey; show: () => boolean; view: () => preact.JSX.Element }

// A section is offered only if the key may call what it is built on (the same policy as the API).
const PAGES: Page[] = [
  { id: 'activities', label: 'nav.activities', show: () => can('facefusion', 'DescribeActivities'), view: () => <Activities /> },
  { id: 'playground', label: 'nav.playground', show: () => can('facefusion', 'FuseFace') && can('facefusion', 'DescribeActivities') && can('facefusion', 'DescribeMaterialList'), view: () => <Playground /> },
  { id: 'library', label: 'nav.library', show: () => can('iai', 'GetGroupList'), view: () => <Library /> },
  { id: 'privacy', label: 'nav.privacy', show: () => ['DescribeRetentionPolicy', 'DescribeDeletionRequests', 'DescribePrivacyPolicy', 'DescribeAuditLog'].some((a) => can('facevault', a)), view: () => <Privacy /> },
  { id: 'usage', label: 'nav.usage', show: () => can('facevault', 'DescribeUsage'), view: () => <Usage /> },
  { id: 'keys', label: 'nav.keys', show: () => can('facevault', 'DescribeSubUsers'), view: () => <Keys /> },
];

const route = () => location.hash.replace(/^#\/?/, '').split('?')[0];

export function App() {
  const [language, setLanguage] = useState<Lang>(() => { const l = initialLang(); setLang(l); return l; });
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const [, setActionsLoaded] = useState(0);
  const [path, setPath] = useState(route());

  useEffect(() => {
    onSessionEnded(() => { setUser(null); setExpired(true); });
    const onHash = () => setPath(route());
    addEventListener('hashchange', onHash);
    currentSession().then(async (u) => { if (u) await loadActions(); setActionsLoaded((n) => n + 1); setUser(u); }, () => setUser(null));
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const changeLang = (l: Lang) => { setLang(l); setLanguage(l); };
  const langSwitch = (
    <label class="lang">
      <span class="sr-only">{t('lang.label')}</span>
      <select value={language} onChange={(e) => changeLang((e.currentTarget as HTMLSelectElement).value as Lang)} aria-label={t('lang.label')}>
        {LANGS.map((l) => <option key={l.id} value={l.id} lang={l.id}>{l.label}</option>)}
      </select>
    </label>
  );

  if (user === undefined) return <div class="boot" aria-busy="true">{t('common.loading')}</div>;
  if (user === null) {
    return <SignIn expired={expired} langSwitch={langSwitch} onSignedIn={async (u) => { await loadActions(); setExpired(false); setUser(u); }} />;
  }

  const pages = PAGES.filter((p) => p.show());
  const current = pages.find((p) => p.id === path) ?? pages[0];
  const who = user.IsRoot ? t('user.root') : t('user.subUser', { subUin: user.SubUin });
  return (
    <div class="shell" key={lang()}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>{t('app.skip')}</a>
      <header class="top">
        <a class="brand" href="#/">
          <img src="/console/favicon.svg" alt="" width={24} height={24} />
          <span>{t('app.title')}</span>
        </a>
        <div class="top-right">
          <span class="who" data-testid="who">{t('user.signedInAs', { appId: user.AppId, who })}</span>
          {langSwitch}
          <button type="button" class="btn" onClick={async () => { await signOut(); setUser(null); }}>{t('user.signOut')}</button>
        </div>
      </header>
      <nav class="side" aria-label={t('nav.label')}>
        <ul>
          {pages.map((p) => (
            <li key={p.id}><a href={`#/${p.id}`} aria-current={p === current ? 'page' : undefined}>{t(p.label)}</a></li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {current ? current.view() : <p class="empty">{t('nav.none')}</p>}
      </main>
    </div>
  );
}
