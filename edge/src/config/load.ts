import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '@ioc/shared';
import { uplinkConfigProblems } from './checks.js';
import { EdgeConfig } from './schema.js';

export interface LoadedEdgeConfig {
  config: EdgeConfig;
  /** The config file's folder: relative paths in the file are resolved against it. */
  configDir: string;
}

function resolvePaths(config: EdgeConfig, configDir: string): EdgeConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  return {
    ...config,
    gateway: { ...config.gateway, dataDir: abs(config.gateway.dataDir) },
    profilesDir: abs(config.profilesDir),
    uplink: { ...config.uplink, ca: abs(config.uplink.ca), cert: abs(config.uplink.cert), key: abs(config.uplink.key) },
  };
}

/** Checks a schema cannot express; a problem fails like a schema error, naming the key. */
function checked(config: EdgeConfig, file: string): EdgeConfig {
  const problems = uplinkConfigProblems(config.uplink);
  if (problems.length) throw new ConfigError(file, problems.join('; '));
  return config;
}

export function loadEdgeConfig(path: string): LoadedEdgeConfig {
  const configDir = dirname(resolve(path));
  return { config: resolvePaths(checked(loadConfigFile(path, EdgeConfig), path), configDir), configDir };
}

export function parseEdgeConfig(text: string, configDir: string, file = 'edge.yaml'): LoadedEdgeConfig {
  return { config: resolvePaths(checked(parseConfig(text, EdgeConfig, file), file), configDir), configDir };
}
