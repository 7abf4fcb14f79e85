/**
 * hub.yaml `notify`: channels (each of a type in ./channels/registry.ts, with the settings every
 * channel has and its own), routes that choose channels by area, severity, kind and event, and
 * escalation tiers. One TypeBox schema, checked with the rest of hub.yaml (config/schema.ts has
 * the one `notify` key); the checks a schema cannot express are notifyProblems().
 */
import { Type, type Static } from '@sinclair/typebox';
import { AREA_PATTERN } from '../config/areas.js';
import { CHANNEL_TYPES } from './channels/registry.js';
import { CATEGORIES, SEVERITIES, type ChannelCommon } from './types.js';

export const CHANNEL_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';

const ChannelId = Type.String({ pattern: CHANNEL_ID_PATTERN });
const Severity = Type.Unsafe<(typeof SEVERITIES)[number]>({ type: 'string', enum: [...SEVERITIES] });
const Category = Type.Unsafe<(typeof CATEGORIES)[number]>({ type: 'string', enum: [...CATEGORIES] });
const Areas = Type.Array(Type.String({ pattern: AREA_PATTERN }), { minItems: 1, uniqueItems: true, default: ['*'] });
const ChannelIds = Type.Array(ChannelId, { minItems: 1, uniqueItems: true });

/** Settings every channel has. */
const commonProperties = {
  /** Named by routes and escalation tiers; also the metrics' channel label. */
  id: ChannelId,
  type: Type.Unsafe<string>({ type: 'string', enum: CHANNEL_TYPES.map((t) => t.type) }),
  /** Deliveries in flight at once on this channel (a slow receiver holds only its own slots). */
  concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  /** One attempt may take this long. */
  timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** After this many failed attempts a notification is a dead letter. */
  maxAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 12 }),
  /** …or once it has waited this long since it was queued (or replayed). */
  maxAgeMinutes: Type.Number({ minimum: 1, maximum: 43_200, default: 1440 }),
  /** Exponential backoff with full jitter between attempts (shared Backoff). */
  retry: Type.Object(
    {
      initialMs: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 5000 }),
      maxMs: Type.Integer({ minimum: 10, maximum: 86_400_000, default: 600_000 }),
    },
    { additionalProperties: false, default: {} },
  ),
};

/**
 * A channel entry: the common settings, then — chosen by `type` — the type's own options with
 * unknown keys refused. (if/then rather than a union, so a mistake is reported against the one
 * type it was meant for, not against every type.)
 */
const ChannelEntry = Type.Object(commonProperties, {
  additionalProperties: true,
  allOf: CHANNEL_TYPES.map((t) => ({
    if: { properties: { type: { const: t.type } }, required: ['type'] },
    then: Type.Object({ ...commonProperties, ...t.options.properties }, { additionalProperties: false }),
  })),
});

export const NotifyRoute = Type.Object(
  {
    channels: ChannelIds,
    /** Commune (5 digits) or province (2 digits) codes, or '*'. */
    areas: Areas,
    /** The episode's peak severity at least this. */
    minSeverity: Type.Optional(Severity),
    /** The episode's peak level one of these. */
    levels: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, uniqueItems: true })),
    /** Rule kinds (e.g. flood-levels) and categories (flood, rain, fire, technical). */
    kinds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, uniqueItems: true })),
    categories: Type.Optional(Type.Array(Category, { minItems: 1, uniqueItems: true })),
    /** Alert event kinds (raised, escalated, deescalated, cleared, acknowledged, resolved, …); all when absent. */
    events: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, uniqueItems: true })),
    /** Drills (exercise alerts) go only to routes that say so. */
    includeExercise: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type NotifyRoute = Static<typeof NotifyRoute>;

export const EscalationTier = Type.Object(
  {
    /** An alert still open (not acknowledged, condition present) this long after it was raised… */
    afterMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 10_080 }),
    /** …is sent to these channels, once per tier per alert. */
    channels: ChannelIds,
    areas: Areas,
    minSeverity: Type.Optional(Severity),
    includeExercise: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type EscalationTier = Static<typeof EscalationTier>;

export const NotifyConfigSchema = Type.Object(
  {
    channels: Type.Array(ChannelEntry, { default: [], maxItems: 100 }),
    routes: Type.Array(NotifyRoute, { default: [], maxItems: 1000 }),
    /** Tiers are identified by their position: reordering them re-arms alerts already escalated. */
    escalation: Type.Array(EscalationTier, { default: [], maxItems: 20 }),
  },
  { additionalProperties: false, default: {} },
);

export type ChannelConfig = ChannelCommon & Record<string, unknown>;
export type NotifyConfig = { channels: ChannelConfig[]; routes: NotifyRoute[]; escalation: EscalationTier[] };

/** As written in hub.yaml (defaulted keys optional). */
export type NotifyConfigInput = {
  channels?: Array<{ id: string; type: string; [option: string]: unknown }>;
  routes?: Array<Partial<NotifyRoute> & { channels: string[] }>;
  escalation?: Array<Partial<EscalationTier> & { afterMinutes: number; channels: string[] }>;
};

/** Checks the schema cannot express, each naming its key. */
export function notifyProblems(n: NotifyConfig): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  n.channels.forEach((c, i) => {
    const key = `notify.channels.${i}`;
    if (ids.has(c.id)) problems.push(`${key}.id: duplicate channel id "${c.id}"`);
    ids.add(c.id);
    const type = CHANNEL_TYPES.find((t) => t.type === c.type);
    for (const p of type?.problems?.(c) ?? []) problems.push(`${key}.${p}`);
    if (c.retry.maxMs < c.retry.initialMs) problems.push(`${key}.retry.maxMs: must be at least retry.initialMs (${c.retry.initialMs})`);
  });
  const known = [...ids].join(', ') || 'none configured';
  const refs = (list: string[], key: string) =>
    list.forEach((id, j) => {
      if (!ids.has(id)) problems.push(`${key}.channels.${j}: unknown channel "${id}" (notify.channels: ${known})`);
    });
  n.routes.forEach((r, i) => refs(r.channels, `notify.routes.${i}`));
  n.escalation.forEach((e, i) => refs(e.channels, `notify.escalation.${i}`));
  return problems;
}

/** Channel options naming files (any key ending in "File"): resolved against the config's folder, checked to exist. */
export function notifyFiles(n: NotifyConfig): Array<[key: string, path: string]> {
  const out: Array<[string, string]> = [];
  n.channels.forEach((c, i) => {
    for (const [k, v] of Object.entries(c)) if (k.endsWith('File') && typeof v === 'string') out.push([`notify.channels.${i}.${k}`, v]);
  });
  return out;
}

export function resolveNotifyPaths(n: NotifyConfig, abs: (p: string) => string): NotifyConfig {
  return {
    ...n,
    channels: n.channels.map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, k.endsWith('File') && typeof v === 'string' ? abs(v) : v])) as ChannelConfig),
  };
}
