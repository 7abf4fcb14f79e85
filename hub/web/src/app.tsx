/**
 * The app: who is signed in (GET /auth/me), the login and MFA-enrolment steps, then the shell with
 * one live feed for the whole session.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, onUnauthenticated, setCsrfToken } from './api/client.js';
import { LiveStream } from './api/stream.js';
import type { ConsoleConfig, Me } from './api/types.js';
import { AppContext, type AppContextValue } from './app-context.js';
import { t, useLang } from './i18n/index.js';
import { LoginPage } from './pages/login.js';
import { MfaEnrolPage } from './pages/mfa-enrol.js';
import { Shell } from './shell.js';
import { silenceAlarm } from './ui/alarm.js';

type Phase = { kind: 'loading' } | { kind: 'login' } | { kind: 'error'; message: string } | { kind: 'in'; me: Me; config: ConsoleConfig };

async function loadSession(): Promise<Phase> {
  try {
    const me = await api<Me>('/auth/me');
    setCsrfToken(me.csrfToken);
    if (me.mfaEnrolmentRequired) return { kind: 'in', me, config: { version: '', tiles: null, communes: [] } };
    const config = await api<ConsoleConfig>('/console/config');
    return { kind: 'in', me, config };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return { kind: 'login' };
    return { kind: 'error', message: (err as Error).message };
  }
}

function SignedIn(props: { me: Me; config: ConsoleConfig; reload: () => Promise<void>; signOut: () => void }) {
  const stream = useMemo(() => new LiveStream('', props.signOut), [props.me.id]);
  useEffect(() => {
    stream.start();
    // The stream's upgrade fails without a word when the session has ended (expired, revoked,
    // signed out elsewhere): when the link drops, ask who we are — a 401 there signs this page out.
    const off = stream.onState((s) => {
      if (s === 'down') void api('/auth/me').catch(() => undefined);
    });
    return () => {
      off();
      stream.stop();
    };
  }, [stream]);
  const value: AppContextValue = {
    me: props.me,
    stream,
    config: props.config,
    refreshMe: props.reload,
    logout: async () => {
      stream.stop(); // before the session ends, so it does not try to reconnect without one
      await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
      props.signOut();
    },
  };
  return (
    <AppContext.Provider value={value}>
      <Shell />
    </AppContext.Provider>
  );
}

export function App() {
  useLang();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const reload = useCallback(async () => setPhase(await loadSession()), []);
  const signOut = useCallback(() => {
    silenceAlarm();
    setCsrfToken(null);
    setPhase({ kind: 'login' });
  }, []);
  useEffect(() => {
    void reload();
    return onUnauthenticated(signOut);
  }, []);

  switch (phase.kind) {
    case 'loading':
      return <p class="empty" aria-busy="true">{t('common.loading')}</p>;
    case 'error':
      return (
        <p class="empty" role="alert">
          {t('common.error', { message: phase.message })} <button onClick={() => void reload()}>{t('common.retry')}</button>
        </p>
      );
    case 'login':
      return <LoginPage onLogin={() => void reload()} />;
    case 'in':
      if (phase.me.mfaEnrolmentRequired) return <MfaEnrolPage onDone={() => void reload()} />;
      return <SignedIn me={phase.me} config={phase.config} reload={reload} signOut={signOut} />;
  }
}
