/** Loads and checks hub.yaml; a bad file fails fast with a ConfigError naming the key. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, compile, parseConfig, parseDuration, type Validator } from '@ioc/shared';
import { notifyFiles, notifyProblems, resolveNotifyPaths } from '../notify/config.js';
import { HubConfigSchema, type HubConfig, type ResolvedHubConfig } from './schema.js';

let validator: Validator<ResolvedHubConfig> | undefined;

/** Checks a schema cannot express; each problem names its key. */
function semanticProblems(c: ResolvedHubConfig): string[] {
  const problems: string[] = [];
  const gateways = new Set<string>();
  c.registry.gateways.forEach((g, i) => {
    if (gateways.has(g.id)) problems.push(`registry.gateways.${i}.id: duplicate gateway id "${g.id}"`);
    gateways.add(g.id);
  });
  const devices = new Set<string>();
  c.registry.devices.forEach((d, i) => {
    const key = `registry.devices.${i}`;
    if (devices.has(d.id)) problems.push(`${key}.id: duplicate device id "${d.id}"`);
    devices.add(d.id);
    if (!gateways.has(d.gateway)) {
      problems.push(`${key}.gateway: unknown gateway "${d.gateway}" (not listed in registry.gateways)`);
    }
    const a = d.alarmLevels;
    if (a && !(a.bd1 < a.bd2 && a.bd2 < a.bd3)) {
      problems.push(
        `${key}.alarmLevels: alarm levels must be increasing (bd1 < bd2 < bd3), got bd1=${a.bd1}, bd2=${a.bd2}, bd3=${a.bd3}`,
      );
    }
  });
  c.mqtt.consumers.forEach((k, i) => {
    // One identity, one meaning: a certificate CN must not be both a gateway and a reader of alerts.
    if (gateways.has(k.id)) problems.push(`mqtt.consumers.${i}.id: "${k.id}" is also a gateway id`);
    if (c.mqtt.consumers.findIndex((x) => x.id === k.id) !== i) problems.push(`mqtt.consumers.${i}.id: duplicate consumer id "${k.id}"`);
  });
  if (c.http.tls === false && !isLoopback(c.http.host)) {
    problems.push(`http.tls: false (plain HTTP) is only allowed with a loopback http.host (127.0.0.1, ::1, localhost), got "${c.http.host}": passwords, sessions and enrolment tokens would cross the network in clear`);
  }
  for (const key of ['tokenTtl', 'certificateValidity'] as const) {
    const ms = parseDuration(c.enrolment[key]);
    if (ms !== null && ms < 60_000) problems.push(`enrolment.${key}: at least 1m, got "${c.enrolment[key]}"`);
  }
  if (c.auth.open && !isLoopback(c.http.host)) {
    problems.push(`auth.open: only allowed with a loopback http.host (127.0.0.1, ::1, localhost), got "${c.http.host}": anyone who can reach the port would see everything`);
  }
  problems.push(...notifyProblems(c.notify));
  return problems;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function resolvePaths(c: ResolvedHubConfig, configDir: string): ResolvedHubConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  return {
    ...c,
    hub: { ...c.hub, dataDir: abs(c.hub.dataDir), ...(c.hub.secretKeyFile ? { secretKeyFile: abs(c.hub.secretKeyFile) } : {}) },
    mqtt: {
      ...c.mqtt,
      ...(c.mqtt.tls
        ? { tls: { ca: abs(c.mqtt.tls.ca), cert: abs(c.mqtt.tls.cert), key: abs(c.mqtt.tls.key), ...(c.mqtt.tls.caKey ? { caKey: abs(c.mqtt.tls.caKey) } : {}) } }
        : {}),
    },
    http: {
      ...c.http,
      ...(c.http.tls ? { tls: { cert: abs(c.http.tls.cert), key: abs(c.http.tls.key) } } : {}),
      console: { ...c.http.console, ...(c.http.console.dir ? { dir: abs(c.http.console.dir) } : {}) },
    },
    notify: resolveNotifyPaths(c.notify, abs),
    backup: { ...c.backup, ...(c.backup.dir ? { dir: abs(c.backup.dir) } : {}) },
  };
}

function checkFiles(c: ResolvedHubConfig, file: string): void {
  const files: Array<[string, string | undefined]> = [];
  if (c.mqtt.tls) for (const k of ['ca', 'cert', 'key', 'caKey'] as const) files.push([`mqtt.tls.${k}`, c.mqtt.tls[k]]);
  if (c.http.tls) for (const k of ['cert', 'key'] as const) files.push([`http.tls.${k}`, c.http.tls[k]]);
  files.push(...notifyFiles(c.notify));
  for (const [key, p] of files) {
    if (p !== undefined && !existsSync(p)) throw new ConfigError(file, `${key}: file not found: ${p}`);
  }
}

/**
 * Validates a config object (from a file or built in code), fills defaults and resolves relative
 * paths against `configDir`. The input is not modified.
 */
export function resolveHubConfig(input: HubConfig, configDir: string, file = '(config)'): ResolvedHubConfig {
  validator ??= compile(HubConfigSchema);
  const doc = structuredClone(input) as unknown;
  if (!validator(doc)) throw new ConfigError(file, validator.lastError());
  const problems = semanticProblems(doc);
  if (problems.length) throw new ConfigError(file, problems.join('; '));
  const resolved = resolvePaths(doc, configDir);
  checkFiles(resolved, file);
  return resolved;
}

export interface LoadedHubConfig {
  config: ResolvedHubConfig;
  /** The config file's folder: relative paths in the file are resolved against it. */
  configDir: string;
}

export function parseHubConfig(text: string, configDir: string, file = 'hub.yaml'): LoadedHubConfig {
  const raw = parseConfig(text, HubConfigSchema, file);
  return { config: resolveHubConfig(raw, configDir, file), configDir };
}

export function loadHubConfig(path: string): LoadedHubConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseHubConfig(text, dirname(resolve(path)), path);
}
