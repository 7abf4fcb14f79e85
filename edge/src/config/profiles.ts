/**
 * Device profiles: one YAML file per device model in the profiles folder, `{model}.yaml`.
 * The schema checks each key; the checks below catch what a schema cannot (a bit point without a
 * bit index, a metric missing from the catalog, two points on one metric), all before any device
 * is polled, with the file and the key in the message.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, DeviceProfile, metricDef, parseConfig, registerCount, unitConverter } from '@ioc/shared';

/** Problems the schema cannot express, as `key: reason`. Empty when the profile is sound. */
export function profileProblems(profile: DeviceProfile): string[] {
  const problems: string[] = [];
  const metrics = new Map<string, number>();
  profile.points.forEach((p, i) => {
    const key = `points.${i}`;
    const def = metricDef(p.metric);
    if (!def) problems.push(`${key}.metric: "${p.metric}" is not in the metric catalog`);
    const first = metrics.get(p.metric);
    // A reading is identified by (device, metric, ts): two points on one metric would collide.
    if (first !== undefined) problems.push(`${key}.metric: "${p.metric}" is already read by points.${first}`);
    else metrics.set(p.metric, i);

    const bitArea = p.area === 'coil' || p.area === 'discrete';
    if (bitArea && p.type !== 'bool') problems.push(`${key}.type: a ${p.area} holds one bit, so the type must be "bool"`);
    if (p.type === 'bit' && p.bit === undefined) problems.push(`${key}.bit: required for type "bit" (0 = least significant)`);
    if (p.type !== 'bit' && p.bit !== undefined) problems.push(`${key}.bit: only for type "bit"`);
    if (p.address + registerCount(p.type) - 1 > 65535) problems.push(`${key}.address: the value runs past register 65535`);
    if (p.range && p.range[0] > p.range[1]) problems.push(`${key}.range: minimum is above maximum`);

    if (!def) return;
    const boolSource = p.type === 'bool' || p.type === 'bit';
    if (def.kind === 'boolean') {
      for (const k of ['scale', 'offset', 'range'] as const) {
        if (p[k] !== undefined) problems.push(`${key}.${k}: not used by the boolean metric "${p.metric}"`);
      }
      if (p.unit !== undefined && p.unit !== def.unit) problems.push(`${key}.unit: the boolean metric "${p.metric}" has no unit`);
    } else if (boolSource) {
      problems.push(`${key}.type: "${p.type}" gives true/false but "${p.metric}" is a number`);
    } else if (p.unit !== undefined) {
      try {
        unitConverter(p.unit, def.unit);
      } catch {
        problems.push(`${key}.unit: cannot convert "${p.unit}" to ${def.unit || 'a plain number'} (the unit of ${p.metric})`);
      }
    }
  });
  return problems;
}

/** Reads and checks one profile file; the file name must be `{model}.yaml`. */
export function loadProfile(path: string): DeviceProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const profile = parseConfig(text, DeviceProfile, path);
  const expected = `${profile.model}.yaml`;
  if (basename(path) !== expected) {
    throw new ConfigError(path, `model: "${profile.model}" does not match the file name (rename the file to ${expected} or fix the model)`);
  }
  const problems = profileProblems(profile);
  if (problems.length) throw new ConfigError(path, problems.join('; '));
  return profile;
}

/** Every `*.yaml` profile in `dir`, keyed by model. */
export function loadProfiles(dir: string): Map<string, DeviceProfile> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigError(dir, `cannot read the profiles folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const profiles = new Map<string, DeviceProfile>();
  const fileOf = new Map<string, string>();
  // A .yml file would be skipped without a word, and its devices would then fail as "no profile".
  const yml = names.find((n) => n.endsWith('.yml'));
  if (yml) throw new ConfigError(join(dir, yml), 'profile files are named {model}.yaml (not .yml)');
  for (const name of names.filter((n) => n.endsWith('.yaml')).sort()) {
    const path = join(dir, name);
    const profile = loadProfile(path);
    const other = fileOf.get(profile.model);
    if (other) throw new ConfigError(path, `model: "${profile.model}" is already defined in ${other}`);
    fileOf.set(profile.model, path);
    profiles.set(profile.model, profile);
  }
  return profiles;
}
