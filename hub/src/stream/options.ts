/** How the live stream treats its clients (hub.yaml `stream`; see ../api/stream.ts). */
import { DEFAULT_CLIENT_LIMITS, type ClientLimits } from './client.js';

export interface StreamOptions extends ClientLimits {
  /** Ping interval; a client that has not answered the previous ping is dropped. */
  heartbeatMs: number;
  /** Connections at once (more are refused with 503). */
  maxClients: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { ...DEFAULT_CLIENT_LIMITS, heartbeatMs: 30_000, maxClients: 500 };
