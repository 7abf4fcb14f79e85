import { t } from '../../i18n/index.js';
import { AdminNav } from './nav.js';

export function AuditPage() {
  return (
    <div>
      <AdminNav />
      <h1>{t('admin.audit.title')}</h1>
    </div>
  );
}
