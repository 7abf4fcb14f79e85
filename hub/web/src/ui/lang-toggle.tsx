import { lang, setLang, t, useLang } from '../i18n/index.js';

export function LangToggle() {
  useLang();
  return (
    <button type="button" class="lang-toggle" data-testid="lang-toggle" aria-label={t('shell.langLabel')} onClick={() => setLang(lang() === 'vi' ? 'en' : 'vi')}>
      {t('shell.lang')}
    </button>
  );
}
