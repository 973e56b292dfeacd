import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { consoleConfig, signIn, type User } from '../api.ts';
import { t } from '../i18n/index.ts';
import { ErrorNote } from '../components/ui.tsx';

export function SignIn({ expired, langSwitch, onSignedIn }: { expired: boolean; langSwitch: ComponentChildren; onSignedIn: (u: User) => Promise<void> }) {
  const [id, setId] = useState('');
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [hours, setHours] = useState<number | null>(null);
  useEffect(() => { consoleConfig().then((c) => setHours(Math.round(c.SessionTtlSeconds / 360) / 10), () => {}); }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const u = await signIn(id.trim(), key.trim());
      setKey('');
      await onSignedIn(u);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signin-wrap">
      <div class="signin-lang">{langSwitch}</div>
      <form class="card signin" onSubmit={submit} aria-labelledby="signin-title">
        <div class="brand big">
          <img src="/console/favicon.svg" alt="" width={36} height={36} />
          <span>{t('app.title')}</span>
        </div>
        <h1 id="signin-title">{t('signin.title')}</h1>
        {expired && <p class="note warn" role="status">{t('signin.expired')}</p>}
        <p class="muted signin-intro">{hours !== null ? t('signin.intro', { hours }) : ''}</p>
        <label for="secret-id">{t('signin.secretId')}</label>
        <input id="secret-id" name="secretId" autocomplete="username" spellcheck={false} required value={id} onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)} />
        <label for="secret-key">{t('signin.secretKey')}</label>
        <input id="secret-key" name="secretKey" type="password" autocomplete="current-password" required value={key} onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)} />
        <ErrorNote error={error} />
        <button type="submit" class="btn primary wide" disabled={busy}>{busy ? t('signin.busy') : t('signin.submit')}</button>
        <p class="muted small">{t('signin.where')}</p>
      </form>
    </div>
  );
}
