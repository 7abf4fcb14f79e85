/** YAML config files validated by a schema; a bad file fails fast with the key and the reason. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Static, TSchema } from '@sinclair/typebox';
import { compile } from './validate.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig<S extends TSchema>(text: string, schema: S, file = '(config)'): Static<S> {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(file, `not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(file, 'expected a mapping of keys at the top level');
  }
  const validate = compile(schema);
  if (!validate(doc)) throw new ConfigError(file, validate.lastError());
  return doc as Static<S>;
}

export function loadConfigFile<S extends TSchema>(path: string, schema: S): Static<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfig(text, schema, path);
}
