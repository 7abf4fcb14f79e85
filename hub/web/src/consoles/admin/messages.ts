import { defineMessages } from '../../i18n/define.js';

export const adminMessages = defineMessages({
  'admin.users.title': { vi: 'Người dùng', en: 'Users' },
  'admin.audit.title': { vi: 'Nhật ký hệ thống', en: 'Audit log' },
  'admin.backups.title': { vi: 'Sao lưu', en: 'Backups' },
});
