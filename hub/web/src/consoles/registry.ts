/** The consoles, one line each; the first one a role may open is its landing page. */
import type { ConsoleDef } from './types.js';
import { watchConsole } from './watch/index.js';
import { communeConsole } from './commune/index.js';
import { technicianConsole } from './technician/index.js';
import { adminConsole } from './admin/index.js';

export const CONSOLES: readonly ConsoleDef[] = [watchConsole, communeConsole, technicianConsole, adminConsole];

export function consolesFor(role: string): ConsoleDef[] {
  return CONSOLES.filter((c) => c.roles.includes(role));
}

export function landingFor(role: string): string {
  return consolesFor(role)[0]?.path ?? '/';
}
