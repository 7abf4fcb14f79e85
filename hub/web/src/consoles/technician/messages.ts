import { defineMessages } from '../../i18n/define.js';

export const technicianMessages = defineMessages({
  'technician.title': { vi: 'technician', en: 'technician' },
});
