import type { ConsoleDef } from '../types.js';
import { AuditPage } from './audit.js';
import { BackupsPage } from './backups.js';
import { NotificationsPage } from './notifications.js';
import { RulesPage } from './rules.js';
import { UsersPage } from './users.js';

export const adminConsole: ConsoleDef = {
  id: 'admin',
  path: '/admin',
  nav: 'nav.admin',
  roles: ['admin'],
  routes: [
    { pattern: '/admin', component: UsersPage },
    { pattern: '/admin/users', component: UsersPage },
    { pattern: '/admin/rules', component: RulesPage },
    { pattern: '/admin/rules/:id', component: RulesPage },
    { pattern: '/admin/notifications', component: NotificationsPage },
    { pattern: '/admin/audit', component: AuditPage },
    { pattern: '/admin/backups', component: BackupsPage },
  ],
};
