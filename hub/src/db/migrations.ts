/**
 * Schema steps of hub.db, in order: step i (1-based) brings user_version from i-1 to i. Each
 * part's SQL is a file in ./schema; a new part adds its file and one line here. A released step
 * never changes.
 */
import { ALERTS_SCHEMA } from './schema/alerts.js';
import { AUDIT_SCHEMA } from './schema/audit.js';
import { ENROL_SCHEMA } from './schema/enrol.js';
import { HANDOVER_SCHEMA } from './schema/handover.js';
import { NOTIFY_SCHEMA } from './schema/notify.js';
import { PEOPLE_SCHEMA } from './schema/people.js';
import { STORE_SCHEMA } from './schema/store.js';

export interface Migration {
  /** Which part owns the tables (for error messages). */
  area: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { area: 'store', sql: STORE_SCHEMA },
  { area: 'people', sql: PEOPLE_SCHEMA },
  { area: 'audit', sql: AUDIT_SCHEMA },
  { area: 'enrolment', sql: ENROL_SCHEMA },
  { area: 'alerts', sql: ALERTS_SCHEMA },
  { area: 'notify', sql: NOTIFY_SCHEMA },
  { area: 'handover', sql: HANDOVER_SCHEMA },
];
