import { t } from '../../i18n/index.js';
import { AdminNav } from './nav.js';

export function RulesPage() {
  return (
    <div>
      <AdminNav />
      <h1>{t('admin.rules.title')}</h1>
    </div>
  );
}
