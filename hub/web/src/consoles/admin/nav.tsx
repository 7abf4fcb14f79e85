/** The admin console's own sections. */
import { t, type MessageKey } from '../../i18n/index.js';
import { linkProps, usePath } from '../../ui/router.js';

const SECTIONS: Array<[path: string, label: MessageKey]> = [
  ['/admin/users', 'admin.users.title'],
  ['/admin/rules', 'admin.rules.title'],
  ['/admin/notifications', 'admin.notify.title'],
  ['/admin/audit', 'admin.audit.title'],
  ['/admin/backups', 'admin.backups.title'],
];

export function AdminNav() {
  const path = usePath();
  return (
    <nav class="subnav" aria-label={t('nav.admin')}>
      {SECTIONS.map(([p, label]) => (
        <a key={p} {...linkProps(p)} class={path.startsWith(p) ? 'active' : ''} aria-current={path.startsWith(p) ? 'page' : undefined}>{t(label)}</a>
      ))}
    </nav>
  );
}
