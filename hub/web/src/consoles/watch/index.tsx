import type { ConsoleDef } from '../types.js';
import { AlertDetailPage } from './alert-detail.js';
import { BoardPage } from './board.js';
import { HandoverPage } from './handover.js';

export const watchConsole: ConsoleDef = {
  id: 'watch',
  path: '/watch',
  nav: 'nav.watch',
  roles: ['operator', 'admin', 'viewer'],
  routes: [
    { pattern: '/watch', component: BoardPage },
    { pattern: '/watch/alerts/:id', component: AlertDetailPage },
    { pattern: '/watch/handover', component: HandoverPage },
  ],
};
