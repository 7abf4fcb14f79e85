/**
 * Gateways of the technician's areas: link state, outbox figures, certificate, problems — the
 * REST answer first, then each `status` message of the live feed applied to its row at once (a
 * gateway the list does not know yet, e.g. one just enrolled, reloads the list).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../../api/client.js';
import { useApp } from '../../app-context.js';
import { fmtAge, fmtDateTime, fmtDuration, fmtNumber } from '../../format.js';
import { t, useLang } from '../../i18n/index.js';
import { TableHead } from '../../ui/table-head.js';
import type { GatewayIdentity, GatewayRow, GatewayStatus, OutboxHealth } from './types.js';
import { useNow } from './use-now.js';

function errorText(e: unknown): string {
  return t('common.error', { message: e instanceof ApiError ? e.message : String(e) });
}

export function useGateways() {
  const { stream } = useApp();
  const [rows, setRows] = useState<GatewayRow[] | null>(null);
  const [ids, setIds] = useState<Record<string, GatewayIdentity>>({});
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const r = await api<{ gateways: GatewayRow[] }>('/gateways');
      setRows(r.gateways);
      setError(null);
      // The certificate of each (a province has tens of gateways, not thousands).
      const idents = await Promise.all(r.gateways.map((g) => api<{ gateway: GatewayIdentity }>(`/gateways/${encodeURIComponent(g.id)}/identity`).then((x) => x.gateway, () => null)));
      setIds(Object.fromEntries(idents.filter((x): x is GatewayIdentity => x !== null).map((x) => [x.gateway, x])));
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  useEffect(() => {
    void load();
    return stream.subscribe((m) => {
      if (m.type === 'reset') void load();
      if (m.type !== 'status') return;
      let unknown = false;
      setRows((prev) => {
        if (!prev) return prev;
        const i = prev.findIndex((g) => g.id === m.gw);
        if (i < 0) {
          unknown = true;
          return prev;
        }
        const cur = prev[i]!;
        const status = (m.status as GatewayStatus | null) ?? cur.status;
        const next = [...prev];
        next[i] = { ...cur, online: m.online, lastSeen: m.lastSeen ?? cur.lastSeen, status, statusAt: m.statusAt ?? cur.statusAt, outbox: (status?.outbox as OutboxHealth | undefined) ?? cur.outbox };
        return next;
      });
      if (unknown) void load();
    });
  }, [stream, load]);

  return { rows, ids, error, load };
}

function CertCell(props: { id?: GatewayIdentity }) {
  const i = props.id;
  if (!i) return <span class="muted">—</span>;
  if (i.state === 'revoked') return <span class="tech-warn" title={i.revokeReason ?? ''}>{t('technician.cert.revoked')}</span>;
  if (i.state === 'enrolled') return <span>{t('technician.cert.enrolled', { date: fmtDateTime(i.notAfter) })}</span>;
  return <span class="muted">{t('technician.cert.not_enrolled')}</span>;
}

function RevokeConfirm(props: { gw: string; onDone: (msg: string) => void; onCancel: () => void }) {
  useLang();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(`/gateways/${encodeURIComponent(props.gw)}/revoke`, { method: 'POST', body: reason.trim() ? { reason: reason.trim() } : {} });
      props.onDone(t('technician.revoke.done', { gw: props.gw }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel tech-confirm" onSubmit={submit} data-testid="revoke-confirm" aria-labelledby="revoke-title">
      <h3 id="revoke-title">{t('technician.revoke.title', { gw: props.gw })}</h3>
      <p>{t('technician.revoke.warning')}</p>
      <label>
        {t('technician.revoke.reason')}
        <input name="reason" maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      </label>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <div class="row">
        <button type="submit" class="danger" disabled={busy}>{t('technician.revoke.confirm')}</button>
        <button type="button" onClick={props.onCancel}>{t('common.cancel')}</button>
      </div>
    </form>
  );
}

export function GatewaysTable(props: { gw: ReturnType<typeof useGateways> }) {
  useLang();
  const now = useNow(1000);
  const { rows, ids, error, load } = props.gw;
  const [revoking, setRevoking] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <section class="panel" aria-labelledby="gw-title">
      <div class="row">
        <h2 id="gw-title">{t('technician.title')}</h2>
        <span class="spacer" style={{ flex: 1 }} />
        <button type="button" onClick={() => void load()}>{t('technician.refresh')}</button>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {notice ? <p class="tech-ok" role="status">{notice}</p> : null}
      {!rows ? (
        <p class="muted" aria-busy="true">{t('common.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="muted">{t('technician.empty')}</p>
      ) : (
        <div class="tech-table-wrap">
          <table class="tech-table" data-testid="gateways">
            <TableHead cols={['technician.col.gateway', 'technician.col.state', 'technician.col.outbox', 'technician.col.oldest', 'technician.col.dropped', 'technician.col.writeFailures', 'technician.col.version', 'technician.col.lastAck', 'technician.col.lastSeen', 'technician.col.certificate', 'technician.col.problems', 'technician.col.actions']} />
            <tbody>
              {rows.map((g) => {
                const o = g.outbox;
                const ident = ids[g.id];
                return (
                  <tr key={g.id} data-gw={g.id}>
                    <th scope="row">
                      <div>{g.name ?? g.id}</div>
                      <div class="muted"><code>{g.id}</code>{g.communeCode ? ` · ${g.communeCode}` : ''}</div>
                      <div class="muted">{t('technician.hubStored', { upTo: g.upTo, stored: fmtNumber(g.stored, 0) })}</div>
                    </th>
                    <td data-col="state">
                      <span class={`tech-state ${g.online ? 'online' : 'offline'}`}>{g.online ? t('common.online') : t('common.offline')}</span>
                    </td>
                    <td data-col="outbox">{o ? t('technician.outboxRows', { n: fmtNumber(o.depth, 0) }) : <span class="muted">{t('technician.noStatus')}</span>}</td>
                    <td data-col="oldest">{o ? (o.depth > 0 ? fmtDuration(o.oldestUnsentAgeS * 1000) : '—') : '—'}</td>
                    <td data-col="dropped">
                      <span class={o && o.dropped > 0 ? 'tech-warn' : ''}>{o ? fmtNumber(o.dropped, 0) : '—'}</span>
                      {g.dropped > 0 ? <div class="muted">{t('technician.hubDropped', { n: fmtNumber(g.dropped, 0) })}</div> : null}
                    </td>
                    <td data-col="writeFailures"><span class={o?.writeFailures ? 'tech-warn' : ''}>{o ? fmtNumber(o.writeFailures ?? 0, 0) : '—'}</span></td>
                    <td data-col="version">{g.status?.version ?? '—'}</td>
                    <td data-col="lastAck">{o?.lastAckTs ? <span title={fmtDateTime(o.lastAckTs)}>{fmtAge(o.lastAckTs, now)}</span> : '—'}</td>
                    <td data-col="lastSeen">{g.lastSeen ? <span title={fmtDateTime(g.lastSeen)}>{fmtAge(g.lastSeen, now)}</span> : t('common.never')}</td>
                    <td data-col="certificate"><CertCell {...(ident ? { id: ident } : {})} /></td>
                    <td class="problems" data-col="problems">
                      {g.gatewayProblems.length ? (
                        <ul>{g.gatewayProblems.map((p) => <li key={p.problem} class="tech-warn">{p.message}</li>)}</ul>
                      ) : (
                        <span class="muted">{t('common.none')}</span>
                      )}
                    </td>
                    <td>
                      {ident?.state !== 'revoked' ? (
                        <button type="button" class="danger" onClick={() => { setNotice(null); setRevoking(g.id); }} aria-label={`${t('technician.revoke')} ${g.id}`}>
                          {t('technician.revoke')}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {revoking ? (
        <RevokeConfirm
          gw={revoking}
          onCancel={() => setRevoking(null)}
          onDone={(msg) => {
            setRevoking(null);
            setNotice(msg);
            void load();
          }}
        />
      ) : null}
    </section>
  );
}
