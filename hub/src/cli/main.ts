/** ioc-hub: the hub's command line. */
import { Command } from 'commander';
import { ConfigError, createLogger, DataDirLockedError } from '@ioc/shared';
import { loadHubConfig } from '../config/load.js';
import { EnrolStore } from '../enrol/store.js';
import { registerGatewayCommands } from './gateway.js';
import { buildRegistry } from '../config/registry.js';
import { startHub, type Hub } from '../hub.js';
import { importOutboxExport } from '../import/outbox-export.js';
import { clockWindow, createAdmission } from '../ingest/admission.js';
import { openSqliteStore } from '../store/sqlite.js';
import { VERSION } from '../version.js';
import { registerPeopleCommands } from './people.js';
import { openCliState, type CliState } from './state.js';
import { registerBackupCommands } from './backup-commands.js';

function fail(err: unknown): never {
  if (err instanceof ConfigError) console.error(`ioc-hub: config error: ${err.message}`);
  else console.error(`ioc-hub: ${(err as Error).message}`);
  process.exit(2);
}

const program = new Command('ioc-hub')
  .description('IOC hub: embedded MQTT broker (mutual TLS), ingest with end-to-end acks, SQLite storage, flood alerts, HTTP API.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  ioc-hub start --config /etc/ioc/hub.yaml
  ioc-hub user add lan.admin --role admin --config /etc/ioc/hub.yaml
  ioc-hub gateway token gw-hue-02 --commune 19816 --config /etc/ioc/hub.yaml
  ioc-hub gateway revoke gw-hue-02 --config /etc/ioc/hub.yaml
  ioc-hub audit verify --config /etc/ioc/hub.yaml
  ioc-hub import /media/usb/gw-hue-01.jsonl --config /etc/ioc/hub.yaml
  ioc-hub backup /var/backups/ioc/hub-$(date +%F).db --config /etc/ioc/hub.yaml
  ioc-hub restore /var/backups/ioc/hub-2025-11-30.db --config /etc/ioc/hub.yaml`,
  );

program
  .command('start')
  .description('run the hub until SIGTERM/SIGINT; logs JSON lines to stdout, one of them {"msg":"hub ready", …}')
  .requiredOption('-c, --config <file>', 'hub config file (YAML)')
  .addHelpText(
    'after',
    `
The "hub ready" line carries mqttPort, httpPort, api (base URL: https unless http.tls is false),
caFingerprint (the hub CA's SHA-256, what \`ioc-edge enroll --ca-fingerprint\` pins) and pkiDir
(the demo PKI, when mqtt.tls is not configured).

Examples:
  ioc-hub start --config hub.yaml
  LOG_LEVEL=debug ioc-hub start --config /etc/ioc/hub.yaml`,
  )
  .action(async (opts: { config: string }) => {
    let loaded;
    try {
      loaded = loadHubConfig(opts.config);
    } catch (err) {
      fail(err);
    }
    const { config, configDir } = loaded;
    const logger = createLogger({ name: 'ioc-hub', ...(config.log.level ? { level: config.log.level } : {}) });
    let hub: Hub;
    try {
      hub = await startHub(config, { logger, configDir });
    } catch (err) {
      if (err instanceof ConfigError) fail(err);
      if (err instanceof DataDirLockedError) {
        console.error(`ioc-hub: ${err.message}`);
        process.exit(1);
      }
      logger.fatal({ err }, 'hub failed to start');
      process.exit(1);
    }
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        logger.error('did not stop within 10 s; exiting');
        process.exit(1);
      }, 10_000);
      force.unref();
      await hub.close();
      logger.info('hub stopped');
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    // After the handlers: whoever waits for this line may send SIGTERM at once.
    logger.info(
      { mqttPort: hub.mqttPort, httpPort: hub.httpPort, api: hub.apiUrl, pkiDir: hub.pkiDir, caFingerprint: hub.caFingerprint, dataDir: config.hub.dataDir, version: VERSION },
      'hub ready',
    );
  });

program
  .command('import')
  .description("import a gateway's exported outbox file (from `ioc-edge outbox --export`) into the store")
  .argument('<file>', 'export file (JSON lines, first line {"kind":"ioc-outbox-export",…})')
  .requiredOption('-c, --config <file>', 'hub config file (YAML)')
  .option('--json', 'print the summary as JSON')
  .addHelpText(
    'after',
    `
Readings are de-duplicated by (gateway, seq) like any batch: importing a file that overlaps what
already arrived over MQTT is harmless. The hub may be running or stopped.

Examples:
  ioc-hub import /media/usb/gw-hue-01.jsonl --config /etc/ioc/hub.yaml
  ioc-hub import gw-hue-01.jsonl --config hub.yaml --json`,
  )
  .action(async (file: string, opts: { config: string; json?: boolean }) => {
    let store;
    let state: CliState | undefined;
    try {
      state = openCliState(opts.config);
      const { config } = state;
      const registry = buildRegistry(config.registry);
      store = openSqliteStore({ db: state.db, admit: createAdmission(registry, clockWindow(config.ingest)), maxClockSkewMs: config.ingest.maxClockSkewMs });
      // Gateways enrolled with a token are gateways here too, as in the running hub.
      for (const g of new EnrolStore(state.db).enrolled()) registry.addGateway({ id: g.gateway, ...(g.commune ? { communeCode: g.commune } : {}) });
      const summary = await importOutboxExport(file, {
        store,
        registry,
        onProgress: (p) => process.stderr.write(`imported ${p.readings} readings: ${p.stored} stored, ${p.duplicates} duplicates, ${p.quarantined} quarantined\n`),
      });
      if (opts.json) console.log(JSON.stringify(summary));
      else {
        console.log(
          `${file}: gateway ${summary.gw}: ${summary.readings} readings — ${summary.stored} stored, ${summary.duplicates} duplicates, ` +
            `${summary.quarantined} quarantined, ${summary.dropped} reported dropped, ${summary.invalid} invalid line(s); hub upTo ${summary.upTo}`,
        );
        for (const l of summary.invalidLines) console.log(`  line ${l.line}: ${l.reason}`);
      }
      state.audit.append({
        actor: state.actor,
        action: 'data.imported',
        target: `gateway:${summary.gw}`,
        summary: `${file}: ${summary.stored} readings stored, ${summary.duplicates} duplicates, ${summary.quarantined} quarantined, ${summary.invalid} invalid lines`,
        after: { stored: summary.stored, duplicates: summary.duplicates, quarantined: summary.quarantined, dropped: summary.dropped, invalid: summary.invalid, upTo: summary.upTo },
      });
      store.close();
      state.close();
      process.exitCode = summary.invalid ? 1 : 0;
    } catch (err) {
      store?.close();
      state?.close();
      fail(err);
    }
  });

registerPeopleCommands(program);
registerGatewayCommands(program, fail);
registerBackupCommands(program, fail);

await program.parseAsync(process.argv);
