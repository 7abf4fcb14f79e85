import { defineMessages } from '../../i18n/define.js';

/** Messages of the watch desk's map and shift handover. */
export const watchMapMessages = defineMessages({
  'handover.title': { vi: 'Giao ca', en: 'Shift handover' },
});
