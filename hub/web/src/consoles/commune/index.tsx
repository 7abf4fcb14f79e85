import type { ConsoleDef } from '../types.js';
import { t } from '../../i18n/index.js';

function Home() {
  return <h1>{t('commune.title')}</h1>;
}

export const communeConsole: ConsoleDef = {
  id: 'commune',
  path: '/commune',
  nav: 'nav.commune',
  roles: ['commune', 'admin'],
  routes: [{ pattern: '/commune', component: Home }],
};
