/** All messages of the app: one line per console's messages. */
import { commonMessages } from './messages/common.js';
import { watchMessages } from '../consoles/watch/messages.js';
import { watchMapMessages } from '../consoles/watch/map-messages.js';
import { communeMessages } from '../consoles/commune/messages.js';
import { technicianMessages } from '../consoles/technician/messages.js';
import { adminMessages } from '../consoles/admin/messages.js';
import { adminRulesMessages } from '../consoles/admin/rules-messages.js';

export const CATALOG = { ...commonMessages, ...watchMessages, ...watchMapMessages, ...communeMessages, ...technicianMessages, ...adminMessages, ...adminRulesMessages };
export type MessageKey = keyof typeof CATALOG;
