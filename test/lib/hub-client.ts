/** A thin client for the hub's HTTP API, for tests and the demo. */
import { getJson as getJsonWith } from './procs.js';

export interface ApiReading { gw: string; seq: number; dev: string; metric: string; ts: number; value: number | boolean | null; q: string }
export interface ApiAlert { id: number | string; dev: string; level: number; state: string; active: boolean; levels: number[]; levelLabel?: { vi: string; en: string }; history: Array<{ kind: string; level: number }> }

/** `ca`: the hub CA (PEM), for a hub serving HTTPS; `apiKey`: an `ioc_…` key (a hub with logins; none in open mode). */
export function hubClient(base: string, opts: { ca?: string | Buffer; apiKey?: string } = {}) {
  const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const getJson = <T>(url: string) => getJsonWith<T>(url, { ...(opts.ca ? { ca: opts.ca } : {}), headers });
  return {
    base,
    ca: opts.ca,
    async readings(dev: string, metric: string, limit = 10_000): Promise<ApiReading[]> {
      const r = await getJson<{ readings: ApiReading[] }>(`${base}/api/v1/readings?dev=${dev}&metric=${metric}&limit=${limit}`);
      return r.readings;
    },
    async alerts(dev?: string): Promise<ApiAlert[]> {
      const r = await getJson<{ alerts: Array<Omit<ApiAlert, 'levels'>> }>(`${base}/api/v1/alerts${dev ? `?dev=${dev}` : ''}`);
      return r.alerts.map((a) => ({
        ...a,
        // level path of the episode: the level after each raise/escalate/deescalate event
        levels: a.history.filter((h) => ['raised', 'escalated', 'deescalated'].includes(h.kind)).map((h) => h.level),
      }));
    },
    async allSeqs(gw: string): Promise<number[]> {
      const r = await getJson<{ seqs: number[] }>(`${base}/api/v1/gateways/${gw}/seqs`);
      return r.seqs;
    },
  };
}
