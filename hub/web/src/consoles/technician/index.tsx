import type { ConsoleDef } from '../types.js';
import { t } from '../../i18n/index.js';

function Home() {
  return <h1>{t('technician.title')}</h1>;
}

export const technicianConsole: ConsoleDef = {
  id: 'technician',
  path: '/technician',
  nav: 'nav.technician',
  roles: ['technician', 'admin'],
  routes: [{ pattern: '/technician', component: Home }],
};
