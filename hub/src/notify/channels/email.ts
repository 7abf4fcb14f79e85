/**
 * E-mail channel over SMTP (nodemailer): Vietnamese first, English below, as plain text and as
 * simple HTML. A drill is marked in the subject of both languages.
 *
 * Outcomes: accepted by the server = delivered (the server's queue takes it from there); a
 * permanent SMTP reply (5xx: unknown recipient, message refused, authentication refused) is a
 * dead letter at once; 4xx replies, timeouts and connection failures are retried.
 */
import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import { Type, type Static } from '@sinclair/typebox';
import { readSecret } from '../secrets.js';
import type { ChannelCommon, Notification, Notifier, NotifierType, Severity } from '../types.js';

export const EmailOptions = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 253 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  /**
   * implicit: TLS from the first byte (port 465 by default); starttls (the default): plain
   * connect, then STARTTLS, refused if the server does not offer it (587); none: no TLS at all,
   * only to a loopback host (a local relay).
   */
  tls: Type.Union([Type.Literal('implicit'), Type.Literal('starttls'), Type.Literal('none')], { default: 'starttls' }),
  /** CA certificate (PEM file) of the server's certificate, when it is not a public one. */
  caFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Login, if the server wants one; the password from a file or an environment variable. */
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  passwordFile: Type.Optional(Type.String({ minLength: 1 })),
  passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
  /** Refused with a message: secrets are not written in hub.yaml (see ../secrets.ts). */
  password: Type.Optional(Type.String()),
  from: Type.String({ minLength: 3, maxLength: 256 }),
  to: Type.Array(Type.String({ minLength: 3, maxLength: 256 }), { minItems: 1, maxItems: 100 }),
});
export type EmailOptions = Static<typeof EmailOptions>;

const SEVERITY_LABEL: Record<Severity, { vi: string; en: string }> = {
  minor: { vi: 'Thấp', en: 'Minor' },
  moderate: { vi: 'Trung bình', en: 'Moderate' },
  severe: { vi: 'Nghiêm trọng', en: 'Severe' },
  extreme: { vi: 'Đặc biệt nghiêm trọng', en: 'Extreme' },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Subject, text and HTML of one notification (exported for the tests and for previews). */
export function renderEmail(n: Notification): { subject: string; text: string; html: string } {
  const drill = n.exercise ? { vi: '[DIỄN TẬP] ', en: '[EXERCISE] ' } : { vi: '', en: '' };
  const sev = SEVERITY_LABEL[n.severity];
  // One line whatever the message holds (no header can be smuggled in through it).
  const subject = `${drill.vi}[IOC] ${n.message.vi}`.replace(/\s+/g, ' ').slice(0, 250);
  const area = [n.area.name, n.area.communeCode && `xã/phường ${n.area.communeCode}`, n.area.provinceCode && `tỉnh ${n.area.provinceCode}`].filter(Boolean).join(', ');
  const areaEn = [n.area.name, n.area.communeCode && `commune ${n.area.communeCode}`, n.area.provinceCode && `province ${n.area.provinceCode}`].filter(Boolean).join(', ');
  const when = new Date(n.ts).toISOString();
  const vi = [
    `${drill.vi}${n.message.vi}`,
    '',
    `Mức độ: ${sev.vi} (cấp ${n.level})`,
    `Khu vực: ${area || 'không rõ'}`,
    `Thời điểm: ${when}`,
    `Cảnh báo số ${n.alertId} — sự kiện: ${n.eventKind}`,
    ...(n.escalation ? [`Chưa được xác nhận sau ${n.escalation.afterMinutes} phút (cấp chuyển tiếp ${n.escalation.tier + 1}).`] : []),
  ];
  const en = [
    `${drill.en}${n.message.en}`,
    '',
    `Severity: ${sev.en} (level ${n.level})`,
    `Area: ${areaEn || 'unknown'}`,
    `Time: ${when}`,
    `Alert ${n.alertId} — event: ${n.eventKind}`,
    ...(n.escalation ? [`Not acknowledged after ${n.escalation.afterMinutes} minutes (escalation tier ${n.escalation.tier + 1}).`] : []),
  ];
  const text = [...vi, '', '— English —', '', ...en, '', `Notification ${n.id}`].join('\n');
  const block = (lines: string[], lang: string) =>
    `<div lang="${lang}"><p><strong>${escapeHtml(lines[0]!)}</strong></p><p>${lines.slice(2).map(escapeHtml).join('<br>')}</p></div>`;
  const html = `<!doctype html><html><body>${block(vi, 'vi')}<hr>${block(en, 'en')}<p style="color:#666;font-size:small">${escapeHtml(n.id)}</p></body></html>`;
  return { subject, text, html };
}

function isLoopbackHost(h: string): boolean {
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export const emailChannel: NotifierType<EmailOptions> = {
  type: 'email',
  options: EmailOptions,

  problems(c) {
    const p: string[] = [];
    if (c.password !== undefined) p.push('password: inline secrets are refused (hub.yaml is copied into the audit log at each start): use passwordFile (chmod 600) or passwordEnv');
    if (c.passwordFile && c.passwordEnv) p.push('passwordFile / passwordEnv: give one, not both');
    if ((c.passwordFile || c.passwordEnv) && !c.user) p.push('user: required with a password');
    if (c.tls === 'none' && !isLoopbackHost(c.host)) p.push(`tls: none is only allowed with a loopback host (a local relay), got "${c.host}": the mail and any password would cross the network in clear`);
    return p;
  },

  create(c: ChannelCommon & EmailOptions, deps): Notifier {
    const log = deps.logger;
    let problem: string | undefined;
    let pass: string | undefined;
    if (c.passwordFile || c.passwordEnv) {
      const s = readSecret({ file: c.passwordFile, env: c.passwordEnv });
      if (s.ok) {
        pass = s.value;
        if (s.warning) log.warn({ channel: c.id }, s.warning);
      } else problem = s.reason;
    }
    let ca: Buffer | undefined;
    try {
      if (c.caFile) ca = readFileSync(c.caFile);
    } catch (err) {
      problem = `cannot read caFile ${c.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    if (problem) log.error({ channel: c.id, reason: problem }, 'e-mail channel cannot send: its notifications wait in the queue (restart after fixing)');
    const transport = createTransport({
      host: c.host,
      port: c.port ?? (c.tls === 'implicit' ? 465 : 587),
      secure: c.tls === 'implicit',
      requireTLS: c.tls === 'starttls',
      ignoreTLS: c.tls === 'none',
      ...(c.user ? { auth: { user: c.user, pass: pass ?? '' } } : {}),
      ...(ca ? { tls: { ca } } : {}),
      connectionTimeout: c.timeoutMs,
      greetingTimeout: c.timeoutMs,
      socketTimeout: c.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    let closed = false;
    return {
      id: c.id,
      type: 'email',
      async deliver(n, ctx) {
        try {
          if (problem) return { ok: false, permanent: false, error: `not sent: ${problem}` };
          if (closed || ctx.signal.aborted) return { ok: false, permanent: false, error: 'not sent: the hub is stopping' };
          const { subject, text, html } = renderEmail(n);
          const info = await transport.sendMail({
            from: c.from,
            to: c.to,
            subject,
            text,
            html,
            headers: { 'X-IOC-Notification-Id': n.id, 'Auto-Submitted': 'auto-generated' },
            signal: ctx.signal,
          });
          const rejected = (info.rejected ?? []).length;
          return rejected ? { ok: true, detail: `accepted for ${(info.accepted ?? []).length} recipient(s), refused for ${rejected}` } : { ok: true };
        } catch (err) {
          const e = err as Error & { code?: string; responseCode?: number; permanent?: boolean; response?: string };
          const error = `${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${(e.response ?? e.message).replace(/\s+/g, ' ').slice(0, 200)}`;
          return { ok: false, permanent: e.permanent === true, error };
        }
      },
      async close() {
        closed = true;
        transport.close();
      },
    };
  },
};
