/**
 * Admin: alert rules. The rules in force (with their source: hub.yaml wins at start), the kinds,
 * a JSON editor checked by the server, a backtest over stored data BEFORE saving (compared with
 * the rule in force under the same id), the versions, and delete with a confirmation.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../../api/client.js';
import { fmtDateTime, fmtDuration, fmtNumber } from '../../format.js';
import { local, t, useLang, type MessageKey } from '../../i18n/index.js';
import { LevelBadge } from '../../ui/level.js';
import { linkProps, navigate } from '../../ui/router.js';
import { TableHead } from '../../ui/table-head.js';
import { AdminNav } from './nav.js';
import type { BacktestResult } from '../../../../src/alerts/backtest.js';
import './rules.css';

interface RuleVersion {
  id: string;
  version: number;
  spec: Record<string, unknown>;
  source: string;
  deleted: boolean;
  createdAt: number;
  createdBy: string;
  note: string | null;
}
interface RulesList {
  rules: Array<RuleVersion & { targets: number }>;
  invalid: Array<{ id: string; version: number; error: string }>;
}
interface Kind {
  kind: string;
  description: string;
}
interface BacktestAnswer {
  days: number;
  candidate: BacktestResult;
  saved: (BacktestResult & { version: number }) | null;
}

const DAYS = [1, 3, 7, 14, 30];
const NEW_RULE = { id: 'new-rule', kind: 'levels', metric: 'water_level', thresholds: [1, 2, 3], name: { vi: 'Quy tắc mới', en: 'New rule' } };

const errorText = (err: unknown) => t('common.error', { message: err instanceof ApiError || err instanceof Error ? err.message : String(err) });

function sourceLabel(source: string): string {
  const key = `admin.rules.source.${source}` as MessageKey;
  return source === 'config' || source === 'api' || source === 'default' ? t(key) : source;
}

/** `/admin/rules/:id` opens that rule's editor, so a rule can be linked to (from a note, a ticket). */
export function RulesPage(props: { params: Record<string, string> }) {
  useLang();
  const selected = props.params.id ?? null;
  const [list, setList] = useState<RulesList | null>(null);
  const [kinds, setKinds] = useState<Kind[]>([]);
  const [error, setError] = useState<string | null>(null);
  // `key` changes only when another rule (or a new draft) is opened: saving keeps the editor and its messages.
  const [editing, setEditing] = useState<{ id: string | null; text: string; key: number } | null>(null);
  const opened = useRef(0);
  const edit = (id: string | null, text: string) => setEditing({ id, text, key: ++opened.current });

  const reload = async () => {
    try {
      setList(await api<RulesList>('/rules'));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => {
    void reload();
    api<{ kinds: Kind[] }>('/rules/kinds').then((k) => setKinds(k.kinds), (err) => setError(errorText(err)));
  }, []);

  useEffect(() => {
    if (!selected || !list || editing?.id === selected) return;
    const r = list.rules.find((x) => x.id === selected);
    if (r) edit(r.id, JSON.stringify(r.spec, null, 2));
    else setError(t('admin.rules.notFound', { id: selected }));
  }, [selected, list]);

  const newDraft = () => {
    edit(null, JSON.stringify(NEW_RULE, null, 2));
    if (selected) navigate('/admin/rules');
  };

  return (
    <div class="rules-page">
      <AdminNav />
      <h1>{t('admin.rules.title')}</h1>
      <p class="muted">{t('admin.rules.intro')}</p>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <div class="rules-layout">
        <section class="panel" aria-labelledby="rules-list-h">
          <div class="row rules-head">
            <h2 id="rules-list-h">{t('admin.rules.list')}</h2>
            <span class="spacer" />
            <button type="button" onClick={newDraft}>{t('admin.rules.new')}</button>
          </div>
          {!list ? (
            <p class="muted">{t('common.loading')}</p>
          ) : (
            <div class="table-scroll">
              <table class="rules-table" data-testid="rules-table">
                <TableHead cols={['admin.rules.id', 'admin.rules.name', 'admin.rules.kind', 'admin.rules.enabled', 'admin.rules.version', 'admin.rules.source', 'admin.rules.targets']} />
                <tbody>
                  {list.rules.map((r) => {
                    const name = r.spec.name as { vi?: string; en?: string } | undefined;
                    return (
                      <tr key={r.id} data-rule={r.id} class={editing?.id === r.id ? 'selected' : ''}>
                        <td>
                          <a {...linkProps(`/admin/rules/${encodeURIComponent(r.id)}`)} aria-label={t('admin.rules.open', { id: r.id })}>
                            <code>{r.id}</code>
                          </a>
                        </td>
                        <td>{local({ vi: name?.vi ?? name?.en ?? '', en: name?.en ?? name?.vi ?? '' }) || '—'}</td>
                        <td><code>{String(r.spec.kind)}</code></td>
                        <td>{r.spec.enabled === false ? t('common.no') : t('common.yes')}</td>
                        <td>v{r.version}</td>
                        <td><span class={`rule-source src-${r.source}`}>{sourceLabel(r.source)}</span></td>
                        <td>{r.targets}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <p class="muted small">{t('admin.rules.sourceNote')}</p>
          {list?.invalid.length ? (
            <div class="rules-invalid" role="status">
              <h3>⚠ {t('admin.rules.invalid')}</h3>
              <p class="muted small">{t('admin.rules.invalidNote')}</p>
              <ul>
                {list.invalid.map((i) => (
                  <li key={i.id}>
                    <code>{i.id}</code> v{i.version}: {i.error}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </section>

        {editing ? (
          <RuleEditor
            key={editing.key}
            id={editing.id}
            initial={editing.text}
            onChanged={async (id) => {
              await reload();
              if (id === null) {
                setEditing(null);
                navigate('/admin/rules', { replace: true });
              } else if (id !== selected) {
                setEditing((e) => e && { ...e, id });
                navigate(`/admin/rules/${encodeURIComponent(id)}`, { replace: true });
              }
            }}
          />
        ) : null}

        <section class="panel" aria-labelledby="rules-kinds-h">
          <h2 id="rules-kinds-h">{t('admin.rules.kinds')}</h2>
          <dl class="rule-kinds">
            {kinds.map((k) => (
              <div key={k.kind}>
                <dt><code>{k.kind}</code></dt>
                <dd lang="en">{k.description}</dd>
              </div>
            ))}
          </dl>
        </section>
      </div>
    </div>
  );
}

function RuleEditor(props: { id: string | null; initial: string; onChanged: (stillThere: string | null) => Promise<void> }) {
  useLang();
  const [text, setText] = useState(props.initial);
  const [days, setDays] = useState(7);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [result, setResult] = useState<BacktestAnswer | null>(null);
  const [versions, setVersions] = useState<RuleVersion[]>([]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [currentId, setCurrentId] = useState(props.id);

  const loadVersions = async (id: string | null) => {
    if (!id) return setVersions([]);
    try {
      setVersions((await api<{ versions: RuleVersion[] }>(`/rules/${encodeURIComponent(id)}/versions`)).versions);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) setMessage({ error: true, text: errorText(err) });
      setVersions([]);
    }
  };
  useEffect(() => void loadVersions(currentId), [currentId]);

  const parse = (): Record<string, unknown> | null => {
    try {
      const spec = JSON.parse(text) as unknown;
      if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('{ … }');
      return spec as Record<string, unknown>;
    } catch (err) {
      setMessage({ error: true, text: t('admin.rules.badJson', { message: (err as Error).message }) });
      return null;
    }
  };

  const backtest = async () => {
    const spec = parse();
    if (!spec) return;
    setBusy(true);
    setMessage(null);
    try {
      setResult(await api<BacktestAnswer>('/rules/backtest', { method: 'POST', body: { rule: spec, days } }));
    } catch (err) {
      setResult(null);
      setMessage({ error: true, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    const spec = parse();
    if (!spec) return;
    const id = typeof spec.id === 'string' ? spec.id : '';
    setBusy(true);
    try {
      const r = await api<{ rule: RuleVersion }>(`/rules/${encodeURIComponent(id)}`, { method: 'PUT', body: { rule: spec, ...(note.trim() ? { note: note.trim() } : {}) } });
      setMessage({ error: false, text: t('admin.rules.saved', { version: r.rule.version }) });
      setNote('');
      setCurrentId(id);
      await loadVersions(id);
      await props.onChanged(id);
    } catch (err) {
      setMessage({ error: true, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!currentId) return;
    setBusy(true);
    try {
      await api(`/rules/${encodeURIComponent(currentId)}`, { method: 'DELETE', body: note.trim() ? { note: note.trim() } : {} });
      setMessage({ error: false, text: t('admin.rules.deleted', { id: currentId }) });
      setConfirmDelete(false);
      await props.onChanged(null);
    } catch (err) {
      setMessage({ error: true, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel rule-editor" aria-labelledby="rule-editor-h" data-testid="rule-editor">
      <h2 id="rule-editor-h">{currentId ? t('admin.rules.editor', { id: currentId }) : t('admin.rules.editorNew')}</h2>
      <label>
        {t('admin.rules.spec')}
        <textarea name="spec" rows={14} spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      <div class="row rule-actions">
        <label class="inline">
          {t('admin.rules.days')}{' '}
          <select name="days" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {DAYS.map((d) => (
              <option key={d} value={String(d)}>{t('admin.rules.daysN', { n: d })}</option>
            ))}
          </select>
        </label>
        <button type="button" class="primary" disabled={busy} onClick={backtest} data-testid="backtest">
          {busy ? t('admin.rules.backtesting') : t('admin.rules.backtest')}
        </button>
      </div>
      {message ? (
        <p class={message.error ? 'error' : 'ok'} role={message.error ? 'alert' : 'status'} data-testid="rule-message">{message.text}</p>
      ) : null}
      {result ? <BacktestView answer={result} /> : null}
      <div class="rule-save">
        <label>
          {t('admin.rules.note')}
          <input name="note" maxLength={1024} value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
        </label>
        {!result ? <p class="muted small">{t('admin.rules.saveFirst')}</p> : null}
        <div class="row">
          <button type="button" disabled={busy} onClick={save} data-testid="save-rule">{t('admin.rules.save')}</button>
          {currentId ? (
            confirmDelete ? (
              <span class="row delete-confirm" role="group">
                <span>{t('admin.rules.deleteConfirm', { id: currentId })}</span>
                <button type="button" class="danger" disabled={busy} onClick={remove}>{t('admin.rules.deleteYes')}</button>
                <button type="button" onClick={() => setConfirmDelete(false)}>{t('common.cancel')}</button>
              </span>
            ) : (
              <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>{t('admin.rules.delete')}</button>
            )
          ) : null}
        </div>
      </div>
      {versions.length ? <Versions versions={versions} onLoad={(v) => setText(JSON.stringify(v.spec, null, 2))} /> : null}
    </section>
  );
}

function Totals(props: { r: BacktestResult }) {
  const { r } = props;
  const levels = Object.entries(r.totals.byMaxLevel).sort(([a], [b]) => Number(b) - Number(a));
  return (
    <>
      <td data-field="episodes">{r.totals.episodes}</td>
      <td>{r.totals.open}</td>
      <td>{r.totals.targetsWithEpisodes} / {r.targets}</td>
      <td>
        {levels.length ? levels.map(([l, n]) => (
          <span key={l} class="by-level">
            <LevelBadge level={Number(l)} /> ×{n}
          </span>
        )) : '—'}
      </td>
      <td>{fmtDuration(r.totals.alertMs)}</td>
      <td>{fmtNumber(r.readings, 0)}</td>
    </>
  );
}

function BacktestView(props: { answer: BacktestAnswer }) {
  useLang();
  const { candidate: c, saved } = props.answer;
  return (
    <div class="backtest" data-testid="backtest-result">
      <h3>{t('admin.rules.result')}</h3>
      <p class="muted small">{t('admin.rules.window', { from: fmtDateTime(c.from), to: fmtDateTime(c.to) })}</p>
      {c.capped ? <p class="warn" role="status">⚠ {t('admin.rules.capped', { max: fmtNumber(c.maxReadings, 0), to: fmtDateTime(c.coveredTo) })}</p> : null}
      {c.notReplayed ? <p class="muted small">{t('admin.rules.notReplayed', { n: c.notReplayed })}</p> : null}
      {c.outOfScope ? <p class="muted small">{t('admin.rules.outOfScope', { n: c.outOfScope })}</p> : null}
      {!c.enabled ? <p class="warn">{t('admin.rules.disabledNote')}</p> : null}
      <div class="table-scroll">
        <table class="backtest-totals" data-testid="backtest-totals">
          <TableHead cols={['', 'admin.rules.totalEpisodes', 'admin.rules.totalOpen', 'admin.rules.totalTargets', 'admin.rules.byLevel', 'admin.rules.alertTime', 'admin.rules.readings']} />
          <tbody>
            <tr data-row="candidate">
              <th scope="row">{t('admin.rules.candidate')}</th>
              <Totals r={c} />
            </tr>
            {saved ? (
              <tr data-row="saved">
                <th scope="row">{t('admin.rules.savedVersion', { version: saved.version })}</th>
                <Totals r={saved} />
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {!saved ? <p class="muted small">{t('admin.rules.noSaved')}</p> : null}
      <h3>{t('admin.rules.episodes')}</h3>
      {c.episodes.length ? (
        <div class="table-scroll">
          <table class="backtest-episodes" data-testid="backtest-episodes">
            <TableHead cols={['admin.rules.place', 'admin.rules.start', 'admin.rules.end', 'admin.rules.peak', 'admin.rules.changes', 'admin.rules.reopened']} />
            <tbody>
              {c.episodes.map((e) => (
                <tr key={`${e.target}-${e.start}`} data-target={e.target}>
                  <td>{local(e.place)} <span class="muted small"><code>{e.target}</code></span></td>
                  <td>{fmtDateTime(e.start)}</td>
                  <td>{e.end === null ? <em>{t('admin.rules.stillOpen')}</em> : fmtDateTime(e.end)}</td>
                  <td>
                    <LevelBadge level={e.maxLevel} label={e.maxLabel} />
                    {e.peakValue !== null ? <span class="muted small"> {t('admin.rules.reachedAt', { value: fmtNumber(e.peakValue) })}</span> : null}
                  </td>
                  <td>{e.changes}</td>
                  <td>{e.reopened}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted" data-testid="backtest-none">{t('admin.rules.noEpisodes')}</p>
      )}
      {c.episodesListed < c.totals.episodes ? <p class="muted small">{t('admin.rules.listed', { n: c.episodesListed, total: c.totals.episodes })}</p> : null}
    </div>
  );
}

function Versions(props: { versions: RuleVersion[]; onLoad: (v: RuleVersion) => void }) {
  useLang();
  return (
    <div class="rule-versions">
      <h3>{t('admin.rules.versions')}</h3>
      <div class="table-scroll">
        <table data-testid="rule-versions">
          <TableHead cols={['admin.rules.version', 'admin.rules.when', 'admin.rules.who', 'admin.rules.source', 'admin.rules.versionNote', '']} />
          <tbody>
            {[...props.versions].reverse().map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>v{v.version}{v.deleted ? <span class="muted"> ({t('admin.rules.deletedVersion')})</span> : null}</td>
                <td>{fmtDateTime(v.createdAt)}</td>
                <td>{v.createdBy}</td>
                <td>{sourceLabel(v.source)}</td>
                <td>{v.note ?? '—'}</td>
                <td>
                  <button type="button" onClick={() => props.onLoad(v)}>{t('admin.rules.load')}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
