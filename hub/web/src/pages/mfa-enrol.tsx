/** First login of an account that must have a second factor: scan, confirm with a code, keep the recovery codes. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { t, useLang } from '../i18n/index.js';
import { QrCode } from '../ui/qr.js';

export function MfaEnrolPage(props: { onDone: () => void }) {
  useLang();
  const [secret, setSecret] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);

  useEffect(() => {
    api<{ secret: string; uri: string }>('/auth/mfa/begin', { method: 'POST' })
      .then(setSecret)
      .catch((e: Error) => setError(t('common.error', { message: e.message })));
  }, []);

  const confirm = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<{ recoveryCodes: string[] }>('/auth/mfa/confirm', { method: 'POST', body: { code } });
      setRecovery(r.recoveryCodes);
    } catch {
      setError(t('login.otpWrong'));
    }
  };

  return (
    <main class="login" id="main">
      <div class="login-card wide">
        <h1>{t('mfa.title')}</h1>
        {recovery ? (
          <>
            <p>{t('mfa.recovery')}</p>
            <ul class="recovery-codes" data-testid="recovery-codes">
              {recovery.map((c) => <li key={c}><code>{c}</code></li>)}
            </ul>
            <button type="button" class="primary" onClick={props.onDone}>{t('mfa.done')}</button>
          </>
        ) : (
          <>
            <p>{t('mfa.intro')}</p>
            {secret ? (
              <>
                <QrCode text={secret.uri} label={t('mfa.title')} />
                <p>
                  {t('mfa.secret')} <code data-testid="mfa-secret">{secret.secret}</code>
                </p>
              </>
            ) : null}
            <form onSubmit={confirm}>
              <label>
                {t('login.otp')}
                <input name="code" inputMode="numeric" pattern="[0-9]{6}" required value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value.trim())} />
              </label>
              {error ? <p class="error" role="alert">{error}</p> : null}
              <button type="submit" class="primary">{t('mfa.confirm')}</button>
            </form>
          </>
        )}
      </div>
    </main>
  );
}
