// The console's language: Simplified Chinese when the browser prefers Chinese, else English;
// the switch in the header overrides it (kept in localStorage, which holds nothing secret).
// Components call t() during render; App re-renders the whole tree when the language changes.
import { en, type MessageKey } from './en.ts';
import { zh } from './zh.ts';

export type Lang = 'en' | 'zh-CN';
const TABLES: Record<Lang, Record<MessageKey, string>> = { en, 'zh-CN': zh };
export const LANGS: { id: Lang; label: string }[] = [{ id: 'en', label: 'English' }, { id: 'zh-CN', label: '简体中文' }];

export function initialLang(): Lang {
  const saved = globalThis.localStorage?.getItem('fv-lang');
  if (saved === 'en' || saved === 'zh-CN') return saved;
  const prefs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const p of prefs) {
    if (/^zh\b/i.test(p)) return 'zh-CN';
    if (/^en\b/i.test(p)) return 'en';
  }
  return 'en';
}

let current: Lang = 'en';

export function setLang(l: Lang): void {
  current = l;
  globalThis.localStorage?.setItem('fv-lang', l);
  document.documentElement.lang = l;
  document.title = t('app.title');
}

export const lang = () => current;

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const s = TABLES[current][key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** Numbers and dates in the console's language. */
export const fmtNum = (n: number) => n.toLocaleString(current);
export const fmtTime = (iso: string) => {
  const d = new Date(iso.includes('T') || iso.endsWith('Z') ? iso : iso.replace(' ', 'T') + '+08:00');
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(current, { dateStyle: 'medium', timeStyle: 'short' });
};
