/**
 * Accounts and API keys (admins): who may sign in, with what role and areas, their second factor,
 * disabled or locked; add a user (password given, or generated and shown once), change role,
 * areas, disable, unlock, reset MFA; API keys listed, created (the key shown once) and revoked.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../../api/client.js';
import type { ApiKeyView, Role, UserView } from '../../api/types.js';
import { useApp } from '../../app-context.js';
import { fmtDateTime } from '../../format.js';
import { t, useLang, type MessageKey } from '../../i18n/index.js';
import { TableHead } from '../../ui/table-head.js';
import { AdminNav } from './nav.js';
import './admin.css';

const ROLES: readonly Role[] = ['admin', 'operator', 'commune', 'technician', 'viewer'];

export function errorText(e: unknown): string {
  return t('common.error', { message: e instanceof ApiError ? e.message : String(e) });
}

function parseAreas(s: string): string[] {
  return [...new Set(s.split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean))];
}

/** 16 characters without look-alikes (0/O, 1/l/I), from the browser's CSPRNG: about 90 bits. */
function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint32Array(16));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

function RoleSelect(props: { value: Role; onChange: (v: Role) => void; name: string }) {
  return (
    <select name={props.name} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as Role)}>
      {ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}` as MessageKey)}</option>)}
    </select>
  );
}

function AddUser(props: { onAdded: () => void }) {
  useLang();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [areas, setAreas] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; password: string | null } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    setBusy(true);
    const generated = password ? null : generatePassword();
    try {
      await api('/users', {
        method: 'POST',
        body: { username: username.trim(), ...(displayName.trim() ? { displayName: displayName.trim() } : {}), role, areas: parseAreas(areas), password: password || generated },
      });
      setCreated({ name: username.trim(), password: generated });
      setUsername('');
      setDisplayName('');
      setAreas('');
      setPassword('');
      props.onAdded();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="add-user">
      <h2 id="add-user">{t('admin.users.add')}</h2>
      <form class="adm-form" onSubmit={submit} data-testid="add-user">
        <label>
          {t('admin.users.username')}
          <input name="username" required pattern="[a-z0-9][a-z0-9._\-]{1,63}" autocomplete="off" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('admin.users.displayName')}
          <input name="displayName" maxLength={200} value={displayName} onInput={(e) => setDisplayName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('admin.users.role')}
          <RoleSelect name="role" value={role} onChange={setRole} />
        </label>
        <label title={t('admin.users.areasHint')}>
          {t('admin.users.areas')}
          <input name="areas" placeholder="46, 19816" aria-describedby="areas-hint" value={areas} onInput={(e) => setAreas((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('admin.users.password')}
          <input name="password" type="password" autocomplete="new-password" aria-describedby="pw-hint" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <div>
          <button type="submit" class="primary" disabled={busy}>{t('admin.users.create')}</button>
        </div>
      </form>
      <p class="muted" id="areas-hint">{t('admin.users.areasHint')}</p>
      <p class="muted" id="pw-hint">{t('admin.users.passwordHint')}</p>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {created ? (
        <div role="status" data-testid="user-created">
          <p class="adm-ok">{t('admin.users.created', { name: created.name })}</p>
          {created.password ? (
            <p>
              {t('admin.users.generated')} <code class="adm-secret" data-testid="generated-password">{created.password}</code>
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function EditUser(props: { user: UserView; self: boolean; onDone: (msg: string) => void; onCancel: () => void }) {
  useLang();
  const u = props.user;
  const [displayName, setDisplayName] = useState(u.displayName);
  const [role, setRole] = useState(u.role);
  const [areas, setAreas] = useState(u.areas.join(', '));
  const [disabled, setDisabled] = useState(u.disabled);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const patch: Record<string, unknown> = {};
    if (displayName.trim() && displayName.trim() !== u.displayName) patch.displayName = displayName.trim();
    if (role !== u.role) patch.role = role;
    const a = parseAreas(areas);
    if (a.join(',') !== u.areas.join(',')) patch.areas = a;
    if (disabled !== u.disabled) patch.disabled = disabled;
    if (password) patch.password = password;
    if (!Object.keys(patch).length) return props.onCancel();
    try {
      await api(`/users/${encodeURIComponent(u.username)}`, { method: 'PATCH', body: patch });
      props.onDone(t('admin.users.saved', { name: u.username }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="panel adm-form" onSubmit={submit} data-testid="edit-user" aria-label={t('admin.users.editTitle', { name: u.username })}>
      <h3 style={{ gridColumn: '1 / -1' }}>{t('admin.users.editTitle', { name: u.username })}</h3>
      <label>
        {t('admin.users.displayName')}
        <input name="displayName" maxLength={200} value={displayName} onInput={(e) => setDisplayName((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        {t('admin.users.role')}
        <RoleSelect name="role" value={role} onChange={setRole} />
      </label>
      <label>
        {t('admin.users.areas')}
        <input name="areas" value={areas} onInput={(e) => setAreas((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        {t('admin.users.password')}
        <input name="password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
      </label>
      <label class="check">
        <input type="checkbox" name="disabled" checked={disabled} disabled={props.self} onChange={(e) => setDisabled((e.target as HTMLInputElement).checked)} />
        {t('admin.users.disable')}
      </label>
      <div class="row">
        <button type="submit" class="primary">{t('common.save')}</button>
        <button type="button" onClick={props.onCancel}>{t('common.cancel')}</button>
      </div>
      {error ? <p class="error" role="alert" style={{ gridColumn: '1 / -1' }}>{error}</p> : null}
    </form>
  );
}

function UsersTable() {
  useLang();
  const { me } = useApp();
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const load = useCallback(() => {
    api<{ users: UserView[] }>('/users').then((r) => setUsers(r.users), (e: unknown) => setError(errorText(e)));
  }, []);
  useEffect(load, [load]);

  const act = async (path: string, body: unknown, msg: string) => {
    setError(null);
    setNotice(null);
    try {
      await api(path, { method: path.endsWith('reset-mfa') ? 'POST' : 'PATCH', body });
      setNotice(msg);
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const now = Date.now();

  return (
    <>
      <section class="panel" aria-labelledby="users-title">
        <h1 id="users-title">{t('admin.users.title')}</h1>
        {error ? <p class="error" role="alert">{error}</p> : null}
        {notice ? <p class="adm-ok" role="status">{notice}</p> : null}
        {!users ? (
          <p class="muted" aria-busy="true">{t('common.loading')}</p>
        ) : (
          <div class="adm-wrap">
            <table class="adm-table" data-testid="users">
              <TableHead cols={['admin.users.username', 'admin.users.role', 'admin.users.areas', 'admin.users.mfa', 'admin.users.status', 'admin.users.lastLogin', 'admin.users.actions']} />
              <tbody>
                {users.map((u) => {
                  const self = me.user?.username === u.username;
                  const locked = u.lockedUntil !== null && u.lockedUntil > now;
                  return (
                    <tr key={u.username} data-user={u.username} class={u.disabled ? 'adm-muted-row' : ''}>
                      <th scope="row">
                        <div>{u.displayName}{self ? ` ${t('admin.users.self')}` : ''}</div>
                        <div class="muted"><code>{u.username}</code></div>
                      </th>
                      <td data-col="role">{t(`role.${u.role}` as MessageKey)}</td>
                      <td data-col="areas">{u.areas.join(', ') || '—'}</td>
                      <td data-col="mfa">
                        {u.mfaEnabled ? (
                          <span class="adm-ok">{t('admin.users.mfaOn', { n: u.recoveryCodesLeft })}</span>
                        ) : u.mfaRequired ? (
                          <span class="adm-warn">{t('admin.users.mfaPending')}</span>
                        ) : (
                          <span class="muted">{t('admin.users.mfaOff')}</span>
                        )}
                      </td>
                      <td data-col="status">
                        {u.disabled ? <span class="adm-bad">{t('admin.users.disabled')}</span> : locked ? <span class="adm-warn">{t('admin.users.locked', { time: fmtDateTime(u.lockedUntil) })}</span> : t('admin.users.active')}
                      </td>
                      <td data-col="lastLogin">{u.lastLoginAt ? fmtDateTime(u.lastLoginAt) : t('common.never')}</td>
                      <td>
                        <div class="row">
                          <button type="button" onClick={() => { setNotice(null); setEditing(u.username); }}>{t('admin.users.edit')}</button>
                          {locked ? <button type="button" onClick={() => void act(`/users/${encodeURIComponent(u.username)}`, { unlock: true }, t('admin.users.saved', { name: u.username }))}>{t('admin.users.unlock')}</button> : null}
                          {u.mfaEnabled && !self ? (
                            <button
                              type="button"
                              onClick={() => {
                                if (confirm(t('admin.users.resetMfaConfirm', { name: u.username }))) void act(`/users/${encodeURIComponent(u.username)}/reset-mfa`, undefined, t('admin.users.resetMfaDone', { name: u.username }));
                              }}
                            >
                              {t('admin.users.resetMfa')}
                            </button>
                          ) : null}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {editing && users?.find((u) => u.username === editing) ? (
          <EditUser
            user={users.find((u) => u.username === editing)!}
            self={me.user?.username === editing}
            onCancel={() => setEditing(null)}
            onDone={(msg) => {
              setEditing(null);
              setNotice(msg);
              load();
            }}
          />
        ) : null}
      </section>
      <AddUser onAdded={load} />
    </>
  );
}

function ApiKeys() {
  useLang();
  const [keys, setKeys] = useState<ApiKeyView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [areas, setAreas] = useState('');
  const [days, setDays] = useState('');
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const load = useCallback(() => {
    api<{ apiKeys: ApiKeyView[] }>('/api-keys').then((r) => setKeys(r.apiKeys), (e: unknown) => setError(errorText(e)));
  }, []);
  useEffect(load, [load]);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setShown(null);
    const d = Number(days);
    try {
      const r = await api<{ key: string; apiKey: ApiKeyView }>('/api-keys', {
        method: 'POST',
        body: { name: name.trim(), role, areas: parseAreas(areas), ...(days && d > 0 ? { expiresAt: Date.now() + Math.round(d * 86_400_000) } : {}) },
      });
      setShown({ name: r.apiKey.name, key: r.key });
      setName('');
      setAreas('');
      setDays('');
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async (k: ApiKeyView) => {
    if (!confirm(t('admin.keys.revokeConfirm', { name: k.name }))) return;
    setError(null);
    try {
      await api(`/api-keys/${encodeURIComponent(k.id)}/revoke`, { method: 'POST' });
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section class="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">{t('admin.keys.title')}</h2>
      <p class="muted">{t('admin.keys.intro')}</p>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {keys && keys.length === 0 ? <p class="muted">{t('admin.keys.none')}</p> : null}
      {keys && keys.length ? (
        <div class="adm-wrap">
          <table class="adm-table" data-testid="api-keys">
            <TableHead cols={['admin.keys.name', 'admin.users.role', 'admin.users.areas', 'admin.keys.createdBy', 'admin.keys.created', 'admin.keys.expires', 'admin.keys.lastUsed', 'admin.users.status', 'admin.users.actions']} />
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} class={k.revokedAt ? 'adm-muted-row' : ''}>
                  <th scope="row">{k.name}<div class="muted"><code>{k.id}</code></div></th>
                  <td>{t(`role.${k.role}` as MessageKey)}</td>
                  <td>{k.areas.join(', ') || '—'}</td>
                  <td>{k.createdBy}</td>
                  <td>{fmtDateTime(k.createdAt)}</td>
                  <td>{k.expiresAt ? fmtDateTime(k.expiresAt) : t('admin.keys.never')}</td>
                  <td>{k.lastUsedAt ? fmtDateTime(k.lastUsedAt) : t('common.never')}</td>
                  <td>{k.revokedAt ? <span class="adm-bad">{t('admin.keys.revoked', { time: fmtDateTime(k.revokedAt) })}</span> : t('admin.keys.valid')}</td>
                  <td>{k.revokedAt ? null : <button type="button" class="danger" onClick={() => void revoke(k)}>{t('admin.keys.revoke')}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form class="adm-form" onSubmit={create} data-testid="add-key">
        <label>
          {t('admin.keys.name')}
          <input name="keyName" required maxLength={100} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('admin.users.role')}
          <RoleSelect name="keyRole" value={role} onChange={setRole} />
        </label>
        <label>
          {t('admin.users.areas')}
          <input name="keyAreas" placeholder="46" value={areas} onInput={(e) => setAreas((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('admin.keys.expiresDays')}
          <input name="keyDays" type="number" min="1" step="1" inputMode="numeric" value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} />
        </label>
        <div>
          <button type="submit" class="primary">{t('admin.keys.create')}</button>
        </div>
      </form>
      {shown ? (
        <p role="status" data-testid="key-created">
          {t('admin.keys.shownOnce')} <code class="adm-secret">{shown.key}</code>
        </p>
      ) : null}
    </section>
  );
}

export function UsersPage() {
  useLang();
  return (
    <div>
      <AdminNav />
      <div class="adm-sections">
        <UsersTable />
        <ApiKeys />
      </div>
    </div>
  );
}
