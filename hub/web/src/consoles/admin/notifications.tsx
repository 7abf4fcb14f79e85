import { t } from '../../i18n/index.js';
import { AdminNav } from './nav.js';

export function NotificationsPage() {
  return (
    <div>
      <AdminNav />
      <h1>{t('admin.notify.title')}</h1>
    </div>
  );
}
