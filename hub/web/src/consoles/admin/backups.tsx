import { t } from '../../i18n/index.js';
import { AdminNav } from './nav.js';

export function BackupsPage() {
  return (
    <div>
      <AdminNav />
      <h1>{t('admin.backups.title')}</h1>
    </div>
  );
}
