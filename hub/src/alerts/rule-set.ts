/**
 * The rules in force and their versions. Every version of every rule is kept in hub.db
 * (alert_rules); the newest non-deleted version of each id is in force. At start the rules of
 * hub.yaml (`alerts.rules`) are written as new versions where they differ — hub.yaml wins for the
 * rules it names, and a rule it named before and no longer does is deleted. Without
 * `alerts.rules`, the built-in rules (./defaults.ts) are written once, at the first start, and
 * are then the province's to change. Changes through the API are checked against the registry,
 * versioned, audited, and applied to the running engine at once.
 */
import type { AuditInput, AuditLog } from '../audit/types.js';
import type { Registry } from '../config/registry.js';
import type { AlertStore, StoredRuleVersion } from '../store/types.js';
import { DEFAULT_RULES } from './defaults.js';
import type { CompiledRule, RuleSpec } from './rule.js';
import { compileRule, compileRules } from './spec.js';

export interface RuleSetOptions {
  alerts: AlertStore;
  registry: Registry;
  audit: AuditLog;
  /** hub.yaml's alerts.rules (undefined: the built-in rules). */
  configured: readonly unknown[] | undefined;
  now?: () => number;
}

export interface RuleChange {
  by: string;
  note?: string | undefined;
  /** Extra audit fields (ip). */
  audit?: Partial<AuditInput>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class RuleSet {
  private readonly alerts: AlertStore;
  private readonly registry: Registry;
  private readonly audit: AuditLog;
  private readonly now: () => number;
  private compiled: CompiledRule[] = [];
  private listeners: Array<(rules: readonly CompiledRule[]) => void> = [];

  constructor(opts: RuleSetOptions) {
    this.alerts = opts.alerts;
    this.registry = opts.registry;
    this.audit = opts.audit;
    this.now = opts.now ?? Date.now;
    // Checked before anything is written: a bad hub.yaml rule stops the start with its key named.
    const configured = opts.configured ? compileRules(opts.configured, this.registry).map((r) => r.spec) : undefined;
    this.alerts.transaction(() => this.provision(configured));
    this.compileCurrent();
  }

  /** A stored rule the registry no longer fits (a device it named is gone) is left out, not fatal. */
  private compileCurrent(): void {
    this.compiled = [];
    this.invalid.length = 0;
    for (const v of this.current()) {
      try {
        this.compiled.push(compileRule(v.spec, this.registry));
      } catch (err) {
        this.invalid.push({ id: v.id, version: v.version, error: (err as Error).message });
      }
    }
  }

  /** The registry changed (a gateway enrolled): the rules in force find their targets again. */
  recompile(): void {
    this.compileCurrent();
    this.changed();
  }

  /** Rules in hub.db that do not compile against the registry (shown by the API, logged at start). */
  readonly invalid: Array<{ id: string; version: number; error: string }> = [];

  private provision(configured: readonly RuleSpec[] | undefined): void {
    const newest = this.newestById();
    if (configured) {
      for (const spec of configured) {
        const cur = newest.get(spec.id);
        if (cur && !cur.deleted && same(cur.spec, spec)) continue;
        this.write(spec.id, spec as Record<string, unknown>, 'config', false, { by: 'config' }, cur && !cur.deleted ? 'rule.updated' : 'rule.created', 'hub.yaml');
      }
      const named = new Set(configured.map((s) => s.id));
      for (const v of newest.values()) {
        if (v.source === 'config' && !v.deleted && !named.has(v.id)) this.write(v.id, v.spec, 'config', true, { by: 'config' }, 'rule.deleted', 'no longer in hub.yaml');
      }
    } else if (newest.size === 0) {
      for (const spec of DEFAULT_RULES) this.write(spec.id, spec as Record<string, unknown>, 'default', false, { by: 'system' }, 'rule.created', 'built-in rule');
    }
  }

  private newestById(): Map<string, StoredRuleVersion> {
    const m = new Map<string, StoredRuleVersion>();
    for (const v of this.alerts.ruleVersions()) m.set(v.id, v);
    return m;
  }

  private write(id: string, spec: Record<string, unknown>, source: StoredRuleVersion['source'], deleted: boolean, change: RuleChange, action: AuditInput['action'], why?: string): StoredRuleVersion {
    const v = this.alerts.addRuleVersion({ id, spec, source, deleted, createdAt: this.now(), createdBy: change.by, note: change.note ?? why ?? null });
    this.audit.append({
      actor: change.by === 'config' || change.by === 'system' ? 'system' : change.by,
      action,
      target: `rule:${id}`,
      summary: `version ${v.version}${why ? ` (${why})` : ''}${change.note ? `: ${change.note}` : ''}`,
      after: { version: v.version, spec, deleted },
      ...change.audit,
    });
    return v;
  }

  /** The version in force of every rule, by id. */
  current(): StoredRuleVersion[] {
    return [...this.newestById().values()].filter((v) => !v.deleted);
  }

  versions(id: string): StoredRuleVersion[] {
    return this.alerts.ruleVersions(id);
  }

  get rules(): readonly CompiledRule[] {
    return this.compiled;
  }

  onChange(fn: (rules: readonly CompiledRule[]) => void): void {
    this.listeners.push(fn);
  }

  /** Creates or replaces a rule (a new version); throws RuleSpecError for a spec that cannot work. */
  put(spec: unknown, change: RuleChange): StoredRuleVersion {
    const rule = compileRule(spec, this.registry);
    const id = rule.spec.id;
    const others = this.compiled.filter((r) => r.spec.id !== id);
    const cur = this.newestById().get(id);
    const v = this.alerts.transaction(() => this.write(id, rule.spec as Record<string, unknown>, 'api', false, change, cur && !cur.deleted ? 'rule.updated' : 'rule.created'));
    const idx = this.compiled.findIndex((r) => r.spec.id === id);
    this.compiled = idx >= 0 ? this.compiled.map((r) => (r.spec.id === id ? rule : r)) : [...others, rule];
    this.changed();
    return v;
  }

  /** Deletes a rule (a deleted version; its history stays). Its open alerts are cleared by the engine. */
  delete(id: string, change: RuleChange): StoredRuleVersion | undefined {
    const cur = this.newestById().get(id);
    if (!cur || cur.deleted) return undefined;
    const v = this.alerts.transaction(() => this.write(id, cur.spec, 'api', true, change, 'rule.deleted'));
    this.compiled = this.compiled.filter((r) => r.spec.id !== id);
    this.changed();
    return v;
  }

  private changed(): void {
    for (const fn of this.listeners) fn(this.compiled);
  }
}
