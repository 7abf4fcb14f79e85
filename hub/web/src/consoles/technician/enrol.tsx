/**
 * An enrolment token for a gateway: created here, shown once as the command line to run on the
 * gateway and as a QR code of that same command line, then watched until the gateway enrols.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../../api/client.js';
import { useApp } from '../../app-context.js';
import { fmtDateTime } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import { QrCode } from '../../ui/qr.js';
import type { EnrolmentToken, GatewayIdentity } from './types.js';

const TTLS = [['1h', 'technician.ttl.1h'], ['24h', 'technician.ttl.24h'], ['7d', 'technician.ttl.7d']] as const;

export function EnrolPanel(props: { onEnrolled: () => void }) {
  useLang();
  const { config } = useApp();
  const [gateway, setGateway] = useState('');
  const [commune, setCommune] = useState(config.communes[0]?.code ?? '');
  const [ttl, setTtl] = useState('24h');
  const [token, setToken] = useState<(EnrolmentToken & { previousSerial: string | null }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [enrolled, setEnrolled] = useState(false);

  // Until the gateway has used the token: its identity, every few seconds (enrolment does not go
  // through the live feed; the gateway's first status only comes when it connects).
  useEffect(() => {
    if (!token || enrolled) return;
    let live = true;
    const gw = token.gateway;
    // The list first: a new id is in the registry only once it has enrolled (its identity would be a 404 until then).
    const check = () =>
      api<{ gateways: Array<{ id: string }> }>('/gateways')
        .then((r) => (r.gateways.some((g) => g.id === gw) ? api<{ gateway: GatewayIdentity }>(`/gateways/${encodeURIComponent(gw)}/identity`) : null))
        .then((r) => {
          // A new certificate, not the one a re-enrolled gateway had before.
          if (live && r?.gateway.state === 'enrolled' && r.gateway.serial !== token.previousSerial) {
            setEnrolled(true);
            props.onEnrolled();
          }
        })
        .catch(() => undefined);
    const id = setInterval(check, 2000);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [token, enrolled]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setToken(null);
    setEnrolled(false);
    setCopied(false);
    try {
      const id = gateway.trim();
      const tok = await api<EnrolmentToken>(`/gateways/${encodeURIComponent(id)}/enrolment-tokens`, { method: 'POST', body: { communeCode: commune.trim(), ttl } });
      const listed = (await api<{ gateways: Array<{ id: string }> }>('/gateways')).gateways.some((g) => g.id === id);
      const before = listed ? (await api<{ gateway: GatewayIdentity }>(`/gateways/${encodeURIComponent(id)}/identity`)).gateway : null;
      setToken({ ...tok, previousSerial: before?.serial ?? null });
    } catch (err) {
      setError(t('common.error', { message: err instanceof ApiError ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!token) return;
    try {
      await navigator.clipboard.writeText(token.command);
      setCopied(true);
    } catch {
      // No clipboard (plain HTTP, or refused): the text is selectable on the page.
    }
  };

  return (
    <section class="panel" aria-labelledby="enrol-title">
      <h2 id="enrol-title">{t('technician.enrol.title')}</h2>
      <p class="muted">{t('technician.enrol.intro')}</p>
      <form class="tech-form" onSubmit={submit} data-testid="enrol-form">
        <label>
          {t('technician.enrol.gateway')}
          <input name="gateway" required pattern="[a-z0-9\-]{3,64}" placeholder="gw-hue-02" value={gateway} onInput={(e) => setGateway((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('technician.enrol.commune')}
          <input name="commune" required pattern="[0-9]{5}" inputMode="numeric" list="tech-communes" value={commune} onInput={(e) => setCommune((e.target as HTMLInputElement).value)} />
          <datalist id="tech-communes">
            {config.communes.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
          </datalist>
        </label>
        <label>
          {t('technician.enrol.ttl')}
          <select name="ttl" value={ttl} onChange={(e) => setTtl((e.target as HTMLSelectElement).value)}>
            {TTLS.map(([v, k]) => <option key={v} value={v}>{t(k)}</option>)}
          </select>
        </label>
        <div>
          <button type="submit" class="primary" disabled={busy}>{t('technician.enrol.create')}</button>
        </div>
      </form>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {token ? (
        <div class="tech-token" data-testid="enrol-token">
          {/*
            The QR code holds the command line itself, not a URL or JSON: the technician scans it with
            any phone camera and pastes the text into the gateway's terminal; ioc-edge needs nothing
            else (hub address, one-time token, CA fingerprint pinned on first contact), and no app
            has to understand a format of ours.
          */}
          <QrCode text={token.command} label={t('technician.enrol.qr', { gw: token.gateway })} size={240} />
          <div class="cmd">
            <p>{t('technician.enrol.command')}</p>
            <pre data-testid="enrol-command">{token.command}</pre>
            <div class="row">
              <button type="button" onClick={() => void copy()}>{t('technician.enrol.copy')}</button>
              {copied ? <span role="status">{t('technician.enrol.copied')}</span> : null}
            </div>
            <p class="muted">{t('technician.enrol.configNote')}</p>
            <p>{t('technician.enrol.expires', { time: fmtDateTime(token.expiresAt) })}</p>
            <p>
              {t('technician.enrol.fingerprint')} <code>{token.caFingerprint}</code>
            </p>
            {enrolled ? (
              <p class="tech-ok" role="status" data-testid="enrol-done">{t('technician.enrol.enrolled', { gw: token.gateway })}</p>
            ) : (
              <p class="muted" role="status" aria-busy="true">{t('technician.enrol.waiting', { gw: token.gateway })}</p>
            )}
          </div>
        </div>
      ) : null}
    </section>
  );
}
