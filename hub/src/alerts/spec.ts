/**
 * Checking and compiling rule specs: the common keys (id, kind, name, enabled, exercise, select)
 * and the kind's own, unknown keys refused, with messages that name the key.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { DEVICE_ID_PATTERN, compile, type Validator } from '@ioc/shared';
import type { Registry } from '../config/registry.js';
import { COMMUNE_CODE_PATTERN } from '../config/schema.js';
import { RULE_KINDS } from './kinds/index.js';
import { RuleSpecError, type CompiledRule, type RuleSpec } from './rule.js';

export const RULE_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

const Common = {
  id: Type.String({ pattern: RULE_ID_PATTERN }),
  kind: Type.String(),
  name: Type.Optional(Type.Object({ vi: Type.Optional(Type.String({ maxLength: 200 })), en: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })),
  enabled: Type.Optional(Type.Boolean()),
  exercise: Type.Optional(Type.Boolean()),
  select: Type.Optional(
    Type.Object(
      {
        devices: Type.Optional(Type.Array(Type.String({ pattern: DEVICE_ID_PATTERN }), { minItems: 1 })),
        metrics: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1 })),
        profiles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1 })),
        areas: Type.Optional(Type.Array(Type.String({ pattern: `(${COMMUNE_CODE_PATTERN})|(^[0-9]{2}$)` }), { minItems: 1 })),
        gateways: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1 })),
      },
      { additionalProperties: false },
    ),
  ),
};

const validators = new Map<string, Validator<unknown>>();

function validatorFor(kind: string, own: TSchema): Validator<unknown> {
  let v = validators.get(kind);
  if (!v) {
    const props = (own as TObject).properties ?? {};
    v = compile(Type.Object({ ...Common, ...props }, { additionalProperties: false })) as Validator<unknown>;
    validators.set(kind, v);
  }
  return v;
}

/** Checks one spec's keys (not yet against the registry); throws RuleSpecError. */
export function checkRuleSpec(input: unknown): RuleSpec {
  const raw = input as { id?: unknown; kind?: unknown };
  const id = typeof raw?.id === 'string' ? raw.id : '?';
  const kind = typeof raw?.kind === 'string' ? RULE_KINDS.get(raw.kind) : undefined;
  if (!kind) throw new RuleSpecError(id, 'kind', `unknown rule kind ${JSON.stringify(raw?.kind)} (known: ${[...RULE_KINDS.keys()].join(', ')})`);
  const spec = structuredClone(input);
  const v = validatorFor(kind.kind, kind.schema);
  if (!v(spec)) throw new RuleSpecError(id, '', v.lastError());
  return spec as RuleSpec;
}

/** Checks and compiles one spec against the registry. */
export function compileRule(input: unknown, registry: Registry): CompiledRule {
  const spec = checkRuleSpec(input);
  return RULE_KINDS.get(spec.kind)!.compile(spec, registry);
}

/** Checks a whole rule set: unique ids, every spec valid. Throws the first problem. */
export function compileRules(specs: readonly unknown[], registry: Registry): CompiledRule[] {
  const seen = new Set<string>();
  return specs.map((s, i) => {
    try {
      const r = compileRule(s, registry);
      if (seen.has(r.spec.id)) throw new RuleSpecError(r.spec.id, 'id', 'duplicate rule id');
      seen.add(r.spec.id);
      return r;
    } catch (err) {
      if (err instanceof RuleSpecError) throw new RuleSpecError(err.ruleId, `(alerts.rules.${i})${err.path ? ` ${err.path}` : ''}`, err.reason);
      throw err;
    }
  });
}
