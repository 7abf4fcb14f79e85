/**
 * The frame of every console: the header (navigation for the role, language, video-wall mode,
 * sound, sign out), the "data not live" banners, and the page of the current path.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api/client.js';
import type { LinkState } from './api/stream.js';
import { useApp } from './app-context.js';
import { consolesFor, landingFor } from './consoles/registry.js';
import { t, useLang, type MessageKey } from './i18n/index.js';
import { onSoundChange, soundEnabled, unlockSound } from './ui/alarm.js';
import { LangToggle } from './ui/lang-toggle.js';
import { linkProps, match, navigate, usePath } from './ui/router.js';

interface GatewayLink {
  id: string;
  name: string | null;
  online: boolean;
}

function useGatewaysDown(): GatewayLink[] {
  const { stream } = useApp();
  const [gws, setGws] = useState<Map<string, GatewayLink>>(new Map());
  useEffect(() => {
    let live = true;
    const load = () =>
      api<{ gateways: GatewayLink[] }>('/gateways')
        .then((r) => live && setGws(new Map(r.gateways.map((g) => [g.id, { id: g.id, name: g.name, online: g.online }]))))
        .catch(() => undefined);
    void load();
    const off = stream.subscribe((m) => {
      if (m.type === 'reset') void load();
      if (m.type !== 'status') return;
      setGws((prev) => {
        const cur = prev.get(m.gw);
        if (cur && cur.online === m.online) return prev;
        const next = new Map(prev);
        next.set(m.gw, { id: m.gw, name: cur?.name ?? null, online: m.online });
        return next;
      });
    });
    return () => {
      live = false;
      off();
    };
  }, [stream]);
  return [...gws.values()].filter((g) => !g.online);
}

function useLinkState(): LinkState {
  const { stream } = useApp();
  const [s, setS] = useState(stream.state);
  useEffect(() => stream.onState(setS), [stream]);
  return s;
}

function useLarge(): [boolean, () => void] {
  const [large, setLarge] = useState(() => localStorage.getItem('ioc.large') === '1');
  useEffect(() => {
    document.documentElement.classList.toggle('large', large);
    localStorage.setItem('ioc.large', large ? '1' : '0');
  }, [large]);
  return [large, () => setLarge((v) => !v)];
}

function SoundButton() {
  const [, force] = useState(0);
  useEffect(() => onSoundChange(() => force((n) => n + 1)), []);
  const on = soundEnabled();
  return (
    <button type="button" class={on ? 'sound on' : 'sound off'} aria-pressed={on} onClick={unlockSound} data-testid="sound-toggle">
      {on ? '♪ ' + t('shell.soundOn') : '♪̸ ' + t('shell.soundOff')}
    </button>
  );
}

export function Shell() {
  useLang();
  const app = useApp();
  const path = usePath();
  const link = useLinkState();
  const down = useGatewaysDown();
  const [large, toggleLarge] = useLarge();
  const consoles = consolesFor(app.me.role);

  useEffect(() => {
    if (path === '/' || path === '') navigate(landingFor(app.me.role), { replace: true });
    // Links in notifications and CAP messages: {webBase}/alerts/{id}.
    const alert = match('/alerts/:id', path);
    if (alert) navigate(`/watch/alerts/${encodeURIComponent(alert.id!)}`, { replace: true });
  }, [path, app.me.role]);

  let page = <p class="empty">{t('shell.notFound')}</p>;
  outer: for (const c of consoles) {
    for (const r of c.routes) {
      const params = match(r.pattern, path);
      if (params) {
        const Page = r.component;
        page = <Page params={params} />;
        break outer;
      }
    }
  }
  const foreign = !consoles.some((c) => path.startsWith(c.path));
  if (foreign && path !== '/') page = <p class="empty" role="alert">{t('shell.forbidden')}</p>;
  const name = app.me.user?.displayName ?? app.me.id;

  return (
    <div class="shell">
      <a class="skip" href="#main">{t('app.skip')}</a>
      <header class="top">
        <span class="brand">{t('app.title')}</span>
        <nav aria-label={t('nav.menu')}>
          {consoles.map((c) => (
            <a key={c.id} {...linkProps(c.path)} class={path.startsWith(c.path) ? 'active' : ''} aria-current={path.startsWith(c.path) ? 'page' : undefined}>
              {t(c.nav as MessageKey)}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <span class="who">{t('shell.signedInAs', { name, role: t(`role.${app.me.role}` as MessageKey) })}</span>
        <SoundButton />
        <button type="button" aria-pressed={large} onClick={toggleLarge}>{t('shell.large')}</button>
        <LangToggle />
        <button type="button" onClick={() => void app.logout()}>{t('shell.logout')}</button>
      </header>
      {link !== 'live' ? (
        <div class={`banner ${link === 'down' ? 'banner-down' : 'banner-connecting'}`} role="alert" data-testid="link-banner">
          {link === 'down' ? t('shell.linkDown') : t('shell.linkConnecting')}
        </div>
      ) : null}
      {down.length ? (
        <div class="banner banner-down" role="status" data-testid="gateways-banner">
          {t('shell.gatewaysDown', { n: down.length, names: down.map((g) => g.name ?? g.id).join(', ') })}
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>{page}</main>
    </div>
  );
}
