/**
 * A live-feed publication as the JSON text one client receives, or null when nothing of it is
 * for that client. A publication seen whole is serialized once for every client.
 */
import type { LiveEntry } from '../live.js';
import type { StreamFilter } from './filter.js';
import { alertMessageBody, alertTarget } from './from-alert.js';

const whole = new WeakMap<LiveEntry, string>();

function body(e: LiveEntry): object {
  switch (e.kind) {
    case 'readings': {
      const d = e.data as LiveEntry<'readings'>['data'];
      return { gw: d.gw, readings: d.readings };
    }
    case 'alert':
      return alertMessageBody(e.data as LiveEntry<'alert'>['data']);
    case 'status': {
      const s = e.data as LiveEntry<'status'>['data'];
      return { gw: s.gw, online: s.online, lastSeen: s.lastSeen, status: s.status, statusAt: s.statusAt };
    }
    case 'event': {
      const d = e.data as LiveEntry<'event'>['data'];
      return { gw: d.gw, event: d.event };
    }
  }
}

function wholeJson(e: LiveEntry): string {
  let s = whole.get(e);
  if (s === undefined) {
    s = JSON.stringify({ id: e.id, type: e.kind, ...body(e) });
    whole.set(e, s);
  }
  return s;
}

export function render(e: LiveEntry, f: StreamFilter): string | null {
  if (!f.wants(e.kind)) return null;
  switch (e.kind) {
    case 'readings': {
      const d = e.data as LiveEntry<'readings'>['data'];
      let mine = 0;
      for (const r of d.readings) if (f.device(r.dev)) mine++;
      if (mine === 0) return null;
      if (mine === d.readings.length) return wholeJson(e);
      return JSON.stringify({ id: e.id, type: e.kind, gw: d.gw, readings: d.readings.filter((r) => f.device(r.dev)) });
    }
    case 'alert':
      return f.alert(alertTarget(e.data as LiveEntry<'alert'>['data'])) ? wholeJson(e) : null;
    case 'status':
      return f.gateway((e.data as LiveEntry<'status'>['data']).gw) ? wholeJson(e) : null;
    case 'event': {
      const d = e.data as LiveEntry<'event'>['data'];
      return f.event(d.gw, d.event.dev) ? wholeJson(e) : null;
    }
  }
}
