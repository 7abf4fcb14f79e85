import { defineMessages } from '../../i18n/define.js';

export const communeMessages = defineMessages({
  'commune.title': { vi: 'commune', en: 'commune' },
});
