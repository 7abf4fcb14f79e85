import { defineMessages } from '../../i18n/define.js';

/** Messages of the admin's rules (with backtest) and notification pages. */
export const adminRulesMessages = defineMessages({
  'admin.rules.title': { vi: 'Quy tắc cảnh báo', en: 'Alert rules' },
  'admin.notify.title': { vi: 'Thông báo', en: 'Notifications' },
});
