import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';

/**
 * One shared Ajv instance: schemas compile once, validators are plain functions on the hot path.
 *
 * `strict: false` relaxes Ajv's strict mode for what TypeBox emits (its own keywords such as
 * `[Kind]`, `default` with useDefaults, unions of literals without a `type`). It also turns off
 * `strictNumbers`, which would let JSON's `1e400` (parsed as Infinity) or a NaN through every
 * `number` and `integer` — a reading value, a ts, a seq. strictNumbers is set back on by name:
 * a non-finite number fails the schema.
 */
export const ajv = new Ajv({ allErrors: false, strict: false, strictNumbers: true, useDefaults: true, coerceTypes: false });

export interface Validator<T> {
  (value: unknown): value is T;
  /** Human-readable reason for the last failure, naming the offending key. */
  lastError(): string;
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const fn: ValidateFunction = ajv.compile(schema);
  const v = ((value: unknown) => fn(value)) as Validator<Static<S>>;
  v.lastError = () => formatAjvErrors(fn.errors);
  return v;
}

/** `key.path: reason` for each error; additionalProperties names the unknown key itself. */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid';
  return errors
    .map((e) => {
      const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      if (e.keyword === 'additionalProperties') {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        return `${path ? path + '.' : ''}${key}: unknown key`;
      }
      if (e.keyword === 'required') {
        const key = (e.params as { missingProperty: string }).missingProperty;
        return `${path ? path + '.' : ''}${key}: required key is missing`;
      }
      if (e.keyword === 'enum') {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
        return `${path || '(root)'}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
      }
      return `${path || '(root)'}: ${e.message ?? 'invalid'}`;
    })
    .join('; ');
}
