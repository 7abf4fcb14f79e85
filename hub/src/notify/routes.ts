/** Which channels a notification goes to: the routes of hub.yaml `notify.routes`, and escalation tiers. */
import type { EscalationTier, NotifyRoute } from './config.js';
import { SEVERITIES, type Notification, type Severity } from './types.js';

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** '*', the alert's commune code or its province code. */
export function inAreas(n: Notification, areas: readonly string[]): boolean {
  if (areas.includes('*')) return true;
  const { communeCode, provinceCode } = n.area;
  return (communeCode !== null && areas.includes(communeCode)) || (provinceCode !== null && areas.includes(provinceCode));
}

export function routeMatches(n: Notification, r: NotifyRoute): boolean {
  if (n.exercise && !r.includeExercise) return false;
  if (!inAreas(n, r.areas)) return false;
  if (r.minSeverity && rank(n.peakSeverity) < rank(r.minSeverity)) return false;
  if (r.levels && !r.levels.includes(n.peakLevel)) return false;
  if (r.kinds && !r.kinds.includes(n.ruleKind)) return false;
  if (r.categories && !r.categories.includes(n.category)) return false;
  if (r.events && !r.events.includes(n.eventKind)) return false;
  return true;
}

/** Channels of every matching route, each once, in the order the routes name them. */
export function channelsFor(n: Notification, routes: readonly NotifyRoute[]): string[] {
  const out = new Set<string>();
  for (const r of routes) if (routeMatches(n, r)) for (const c of r.channels) out.add(c);
  return [...out];
}

export function tierMatches(n: Notification, t: EscalationTier): boolean {
  if (n.exercise && !t.includeExercise) return false;
  if (!inAreas(n, t.areas)) return false;
  return !t.minSeverity || rank(n.peakSeverity) >= rank(t.minSeverity);
}
