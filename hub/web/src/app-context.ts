/** What every page of a signed-in console gets: who is signed in, the live feed, the hub's settings. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { LiveStream } from './api/stream.js';
import type { ConsoleConfig, Me } from './api/types.js';

export interface AppContextValue {
  me: Me;
  stream: LiveStream;
  config: ConsoleConfig;
  /** Reloads `me` (after an MFA enrolment) or signs out. */
  refreshMe(): Promise<void>;
  logout(): Promise<void>;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside a signed-in console');
  return v;
}
