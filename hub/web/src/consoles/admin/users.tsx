import { t } from '../../i18n/index.js';
import { AdminNav } from './nav.js';

export function UsersPage() {
  return (
    <div>
      <AdminNav />
      <h1>{t('admin.users.title')}</h1>
    </div>
  );
}
