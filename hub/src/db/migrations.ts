/**
 * Schema steps of hub.db, in order: step i (1-based) brings user_version from i-1 to i. Each part
 * keeps its own SQL beside its code; a new part adds one line here. A released step never changes.
 */
import { AUDIT_SCHEMA } from '../audit/schema.js';
import { PEOPLE_SCHEMA } from '../auth/schema.js';
import { ENROL_SCHEMA } from '../enrol/schema.js';
import { STORE_SCHEMA } from '../store/schema.js';

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
];
