/** `ioc-hub user …`, `ioc-hub apikey …`, `ioc-hub audit …`: the first admin, recovery, machines' keys, the audit chain. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ROLES, isRole, type Role } from '../auth/roles.js';
import { AREA_PATTERN } from '../auth/scope.js';
import { AuthError, type UserView } from '../auth/service.js';
import { openCliState, type CliState } from './state.js';

const areaRe = new RegExp(AREA_PATTERN);

class UsageError extends Error {}

function parseRole(s: string): Role {
  if (!isRole(s)) throw new UsageError(`--role: "${s}" is not a role (one of: ${ROLES.join(', ')})`);
  return s;
}

function parseAreas(s: string): string[] {
  const areas = s.split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of areas) if (!areaRe.test(a)) throw new UsageError(`--areas: "${a}" is not an area: use * (everything), a 2-digit province code or a 5-digit commune code`);
  return areas;
}

/** Runs a command against hub.db; errors become one line and exit code 2 (usage) or 1. */
async function withState(config: string, fn: (s: CliState) => Promise<void> | void): Promise<void> {
  let state: CliState | undefined;
  try {
    state = openCliState(config);
    await fn(state);
  } catch (err) {
    console.error(`ioc-hub: ${(err as Error).message}`);
    process.exitCode = err instanceof UsageError || err instanceof AuthError ? 2 : 1;
  } finally {
    state?.close();
  }
}

function readPassword(opts: { passwordFile?: string; passwordStdin?: boolean }): string | null {
  if (opts.passwordFile) return readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '');
  if (opts.passwordStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  return null;
}

/** 20 characters from an alphabet without look-alikes: read aloud over a phone without mistakes. */
function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  return [...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join('');
}

function userLine(u: UserView): string {
  const flags = [u.disabled ? 'DISABLED' : '', u.lockedUntil && u.lockedUntil > Date.now() ? 'LOCKED' : '', u.mfaEnabled ? 'mfa' : u.mfaRequired ? 'mfa NOT ENROLLED' : ''].filter(Boolean);
  return `${u.username.padEnd(20)} ${u.role.padEnd(10)} ${u.areas.join(',').padEnd(16)} ${flags.join(' ')}`;
}

export function registerPeopleCommands(program: Command): void {
  const user = program.command('user').description('people: add the first admin, list, disable, reset a lost second factor');

  user
    .command('add')
    .description('add a user; without --password-file/--password-stdin a strong password is generated and printed once')
    .argument('<username>', 'login name: lower-case letters, digits, . _ -')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .requiredOption('-r, --role <role>', `one of ${ROLES.join(', ')}`)
    .option('-a, --areas <codes>', 'comma-separated: * (everything), province codes (46) or commune codes (19816)', '')
    .option('-n, --name <display name>', 'the name people see')
    .option('--password-file <file>', 'read the password from this file')
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText(
      'after',
      `
Admins must enrol a TOTP second factor at their first login. Operators and admins see every area;
commune staff and technicians see the areas listed.

Examples:
  ioc-hub user add lan.admin --role admin --config /etc/ioc/hub.yaml
  ioc-hub user add hoa --role commune --areas 19816 --name "Nguyễn Thị Hoa" --config hub.yaml
  printf '%s' "$PASSWORD" | ioc-hub user add truc.ban --role operator --areas '*' --password-stdin -c hub.yaml`,
    )
    .action((username: string, opts: { config: string; role: string; areas: string; name?: string; passwordFile?: string; passwordStdin?: boolean }) =>
      withState(opts.config, async (s) => {
        const role = parseRole(opts.role);
        const areas = role === 'admin' || role === 'operator' ? (opts.areas ? parseAreas(opts.areas) : ['*']) : parseAreas(opts.areas);
        if (!areas.length) throw new UsageError(`--areas: a ${role} needs at least one area (e.g. --areas 19816)`);
        const given = readPassword(opts);
        const password = given ?? generatePassword();
        const u = await s.auth.addUser({ username, role, areas, password, ...(opts.name ? { displayName: opts.name } : {}) }, s.actor);
        console.log(`added ${userLine(u)}`);
        if (given === null) console.log(`password (shown once, give it to ${username} in person): ${password}`);
        if (u.mfaRequired) console.log('a second factor (TOTP) must be enrolled at the first login');
      }),
    );

  user
    .command('list')
    .description('list users: role, areas, MFA, disabled or locked')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--json', 'print JSON')
    .action((opts: { config: string; json?: boolean }) =>
      withState(opts.config, (s) => {
        const users = s.auth.users();
        if (opts.json) console.log(JSON.stringify(users));
        else if (!users.length) console.log('no users yet: add the first admin with `ioc-hub user add <name> --role admin -c …`');
        else for (const u of users) console.log(userLine(u));
      }),
    );

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    user
      .command(name)
      .description(disabled ? 'disable a user: their sessions end at once and they cannot log in' : 'enable a disabled user again')
      .argument('<username>')
      .requiredOption('-c, --config <file>', 'hub config file (YAML)')
      .action((username: string, opts: { config: string }) =>
        withState(opts.config, async (s) => {
          const u = await s.auth.updateUser(username, { disabled }, s.actor);
          console.log(`${name}d ${userLine(u)}`);
        }),
      );
  }

  user
    .command('unlock')
    .description('unlock an account locked after failed logins')
    .argument('<username>')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .action((username: string, opts: { config: string }) =>
      withState(opts.config, async (s) => {
        const u = await s.auth.updateUser(username, { unlock: true }, s.actor);
        console.log(`unlocked ${userLine(u)}`);
      }),
    );

  user
    .command('reset-mfa')
    .description("remove a user's second factor (lost phone): they enrol a new one at their next login")
    .argument('<username>')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .action((username: string, opts: { config: string }) =>
      withState(opts.config, (s) => {
        const u = s.auth.resetMfa(username, s.actor);
        console.log(`second factor removed: ${userLine(u)}`);
      }),
    );

  user
    .command('password')
    .description("set a user's password (generated and printed once unless given)")
    .argument('<username>')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--password-file <file>', 'read the password from this file')
    .option('--password-stdin', 'read the password from standard input')
    .action((username: string, opts: { config: string; passwordFile?: string; passwordStdin?: boolean }) =>
      withState(opts.config, async (s) => {
        const given = readPassword(opts);
        const password = given ?? generatePassword();
        await s.auth.updateUser(username, { password }, s.actor);
        console.log(`password of ${username} changed; their sessions ended`);
        if (given === null) console.log(`new password (shown once): ${password}`);
      }),
    );

  const apikey = program.command('apikey').description("machines' API keys: create (shown once), list, revoke");
  apikey
    .command('create')
    .description('create an API key; it is printed once and stored only as a hash')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .requiredOption('--name <name>', 'what uses it, e.g. "provincial data warehouse"')
    .requiredOption('-r, --role <role>', `one of ${ROLES.join(', ')}`)
    .option('-a, --areas <codes>', 'comma-separated area codes (default *)', '*')
    .option('--days <n>', 'expires after n days (default: never)')
    .addHelpText('after', `
Use it as: curl -H "Authorization: Bearer ioc_…" https://hub/api/v1/alerts

Examples:
  ioc-hub apikey create --name "Kho dữ liệu tỉnh" --role viewer --areas 46 -c /etc/ioc/hub.yaml`)
    .action((opts: { config: string; name: string; role: string; areas: string; days?: string }) =>
      withState(opts.config, (s) => {
        const role = parseRole(opts.role);
        const days = opts.days === undefined ? null : Number(opts.days);
        if (days !== null && !(days > 0)) throw new UsageError('--days: a positive number');
        const r = s.auth.createApiKey({ name: opts.name, role, areas: parseAreas(opts.areas), expiresAt: days === null ? null : Date.now() + days * 86_400_000 }, s.actor);
        console.log(r.key);
        console.error(`API key ${r.apiKey.id} (${role}, ${r.apiKey.areas.join(',')}) created; the line above is shown only now`);
      }),
    );
  apikey
    .command('list')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .action((opts: { config: string }) =>
      withState(opts.config, (s) => {
        for (const k of s.auth.apiKeys()) {
          console.log(`${k.id}  ${k.role.padEnd(10)} ${k.areas.join(',').padEnd(12)} ${k.revokedAt ? 'REVOKED ' : ''}${k.name}`);
        }
      }),
    );
  apikey
    .command('revoke')
    .argument('<id>', 'the key id (the part after ioc_ and before the dot)')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .action((id: string, opts: { config: string }) =>
      withState(opts.config, (s) => {
        s.auth.revokeApiKey(id, s.actor);
        console.log(`API key ${id} revoked`);
      }),
    );

  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('walk the hash chain; name the first entry that was altered or removed (exit code 1 then)')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--json', 'print the result as JSON')
    .action((opts: { config: string; json?: boolean }) =>
      withState(opts.config, (s) => {
        const r = s.audit.verify();
        if (opts.json) console.log(JSON.stringify(r));
        else if (r.ok) console.log(`audit log OK: ${r.entries} entries, chain head ${r.head}`);
        else console.log(`AUDIT LOG BROKEN at entry ${r.firstBad.seq} (${r.firstBad.problem}): ${r.message}`);
        if (!r.ok) process.exitCode = 1;
      }),
    );
  audit
    .command('list')
    .description('newest entries first')
    .requiredOption('-c, --config <file>', 'hub config file (YAML)')
    .option('--action <action>', 'e.g. auth.login_failed, or an area: auth')
    .option('--actor <actor>', 'e.g. user:lan.admin')
    .option('-n, --limit <n>', 'how many', '50')
    .action((opts: { config: string; action?: string; actor?: string; limit: string }) =>
      withState(opts.config, (s) => {
        const entries = s.audit.list({ ...(opts.action ? { action: opts.action } : {}), ...(opts.actor ? { actor: opts.actor } : {}), limit: Number(opts.limit) || 50 });
        for (const e of entries) {
          console.log(`${String(e.seq).padStart(6)} ${new Date(e.ts).toISOString()} ${e.actor} ${e.action}${e.target ? ' ' + e.target : ''}${e.outcome !== 'ok' ? ' [' + e.outcome + ']' : ''}${e.summary ? ' — ' + e.summary : ''}`);
        }
      }),
    );
}
