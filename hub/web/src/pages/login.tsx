/** Sign in: username and password, then the TOTP code when the account has a second factor. */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { UserView } from '../api/types.js';
import { t, useLang } from '../i18n/index.js';
import { unlockSound } from '../ui/alarm.js';
import { LangToggle } from '../ui/lang-toggle.js';

export interface LoginResult {
  user: UserView;
  csrfToken: string;
  expiresAt: number;
  mfaEnrolmentRequired: boolean;
}

function messageFor(err: unknown, withOtp: boolean): { text: string; needOtp: boolean } {
  if (err instanceof ApiError) {
    if (err.code === 'mfa_required') return { text: t('login.otpNeeded'), needOtp: true };
    if (err.code === 'invalid_mfa') return { text: t('login.otpWrong'), needOtp: true };
    if (err.code === 'locked') return { text: t('login.locked'), needOtp: false };
    if (err.code === 'disabled') return { text: t('login.disabled'), needOtp: false };
    if (err.status === 429) return { text: t('login.rateLimited'), needOtp: false };
    if (err.status === 401) return { text: t('login.failed'), needOtp: withOtp };
    return { text: t('common.error', { message: err.message }), needOtp: withOtp };
  }
  return { text: t('common.error', { message: String(err) }), needOtp: withOtp };
}

export function LoginPage(props: { onLogin: (r: LoginResult) => void }) {
  useLang();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [needOtp, setNeedOtp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    unlockSound(); // the click is the gesture that lets the alarm sound later
    setBusy(true);
    setError(null);
    try {
      const r = await api<LoginResult>('/auth/login', { method: 'POST', body: { username, password, ...(otp ? { otp } : {}) } });
      props.onLogin(r);
    } catch (err) {
      const m = messageFor(err, needOtp);
      setError(m.text);
      setNeedOtp(m.needOtp);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <div class="login-card">
        <div class="login-head">
          <h1>{t('app.title')}</h1>
          <LangToggle />
        </div>
        <h2>{t('login.title')}</h2>
        <form onSubmit={submit}>
          <label>
            {t('login.username')}
            <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            {t('login.password')}
            <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          </label>
          {needOtp ? (
            <label>
              {t('login.otp')}
              <input name="otp" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9A-Za-z\-]{6,20}" required autoFocus value={otp} onInput={(e) => setOtp((e.target as HTMLInputElement).value.trim())} />
            </label>
          ) : null}
          {error ? <p class="error" role="alert">{error}</p> : null}
          <button type="submit" class="primary" disabled={busy}>{t('login.submit')}</button>
        </form>
      </div>
    </main>
  );
}
