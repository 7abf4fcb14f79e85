import { defineMessages } from '../../i18n/define.js';

export const watchMessages = defineMessages({
  'watch.title': { vi: 'Bảng cảnh báo trực tiếp', en: 'Live alert board' },
});
