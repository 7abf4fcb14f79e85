import type { ComponentType } from 'preact';
import type { MessageKey } from '../i18n/index.js';

export interface ConsoleRoute {
  /** e.g. `/watch/alerts/:id` */
  pattern: string;
  component: ComponentType<{ params: Record<string, string> }>;
}

/** One console: its place in the navigation, who may open it, its pages. */
export interface ConsoleDef {
  id: string;
  path: string;
  nav: MessageKey;
  /** Roles that see it in the navigation and may open it (the hub checks every call again). */
  roles: readonly string[];
  routes: readonly ConsoleRoute[];
}
