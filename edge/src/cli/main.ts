/** ioc-edge: the field gateway's command line. */
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, createLogger, DataDirLockedError } from '@ioc/shared';
import { loadEdgeConfig } from '../config/load.js';
import { EnrollError, enroll } from '../enroll/enroll.js';
import { checkIdentity } from '../enroll/identity.js';
import { loadProfiles } from '../config/profiles.js';
import { Gateway, outboxPath, resolveDevices, statusFilePath } from '../gateway.js';
import { OutboxReader } from '../outbox/index.js';
import { VERSION } from '../version.js';
import { formatStatus } from './format.js';

const program = new Command('ioc-edge')
  .description('IOC field gateway: reads field devices, buffers readings in a local outbox, forwards them to the hub over MQTT/TLS.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  // A usage error (unknown option, missing argument) exits 2, like a bad config file.
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

const configOption = ['-c, --config <file>', 'gateway config file (YAML)', 'edge.yaml'] as const;

function fail(err: unknown): never {
  if (err instanceof ConfigError) console.error(`ioc-edge: config error: ${err.message}`);
  else console.error(`ioc-edge: ${(err as Error).message}`);
  process.exit(2);
}

program
  .command('start')
  .description('run the gateway until SIGTERM/SIGINT; SIGHUP re-reads the config file and applies its device list')
  .option(...configOption)
  .addHelpText('after', '\nExample:\n  ioc-edge start --config /etc/ioc/edge.yaml')
  .action(async (opts: { config: string }) => {
    const { config } = (() => { try { return loadEdgeConfig(opts.config); } catch (e) { fail(e); } })();
    const logger = createLogger({ name: 'ioc-edge', level: config.log.level, base: { gw: config.gateway.id } });
    function failedToStart(err: unknown): never {
      if (err instanceof ConfigError) fail(err);
      if (err instanceof DataDirLockedError) {
        console.error(`ioc-edge: ${err.message}`);
        process.exit(1);
      }
      logger.fatal({ err }, 'gateway failed to start');
      process.exit(1);
    }
    let gateway: Gateway;
    try {
      gateway = new Gateway({ config, logger });
    } catch (err) {
      failedToStart(err);
    }
    let stopping = false;
    let starting: Promise<void> = Promise.resolve();
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      // A signal while starting: let the start finish, then stop what it started.
      await starting.catch(() => undefined);
      await gateway.stop();
      logger.info('stopped');
      process.exit(0);
    };
    // Installed before start() logs "gateway started": a service manager or a script may send
    // SIGTERM the moment it sees that line, and then it must get the clean stop, not the default
    // (immediate death) that a handler installed a moment later would leave in place.
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    // SIGHUP: read the file again and apply its device list; the outbox and the link stay as they are.
    process.on('SIGHUP', () => {
      if (stopping) return;
      logger.info({ file: opts.config }, 'SIGHUP: applying the device list from the config file');
      let next;
      try {
        next = loadEdgeConfig(opts.config).config;
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'config reload refused; the running device list is kept');
        return;
      }
      gateway.applyConfig(next, opts.config).catch((err: unknown) => {
        logger.error({ err: (err as Error).message }, 'config reload refused; the running device list is kept');
      });
    });
    starting = gateway.start();
    await starting.catch(failedToStart);
  });

program
  .command('check')
  .description('validate the config file, the device profiles it uses and the certificate files (exist, readable, key matches, CN = gateway.id, not expired), then exit')
  .option(...configOption)
  .action((opts: { config: string }) => {
    try {
      const { config } = loadEdgeConfig(opts.config);
      const devices = resolveDevices(config, loadProfiles(config.profilesDir), opts.config);
      const problems = checkIdentity(config);
      if (problems.length) {
        for (const p of problems) console.error(`ioc-edge: ${opts.config}: ${p}`);
        process.exit(2);
      }
      console.log(`${opts.config}: OK — gateway ${config.gateway.id}, ${devices.length} device(s), hub ${config.uplink.url}`);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('enroll')
  .description("get this gateway's certificate from the hub with a one-time enrolment token: checks the hub's CA against --ca-fingerprint before sending anything, makes the key pair here, writes the files and edge.yaml's uplink section")
  .requiredOption('--hub <url>', "the hub's API, https://host:port (the host also goes into uplink.url)")
  .requiredOption('--token <token>', 'the enrolment token (ioc-hub gateway token, or the API)')
  .requiredOption('--ca-fingerprint <sha256>', "the hub CA's SHA-256 fingerprint printed with the token (AB:CD:… or plain hex)")
  .option(...configOption)
  .option('--dir <folder>', 'where the key, certificate and CA are written (default: pki/ beside the config file)')
  .option('--id <gateway id>', 'gateway id, when the config file does not exist yet (it is created)')
  .option('--mqtt-url <url>', "uplink.url to write (default: mqtts://{--hub's host}:{the hub's MQTT port})")
  .option('--json', 'print the result as JSON')
  .addHelpText(
    'after',
    '\nExample:\n  ioc-edge enroll --hub https://hub.hue.example:8080 --token iocgw_… --ca-fingerprint 3F:A1:… --config /etc/ioc/edge.yaml --dir /etc/ioc/pki\n\n' +
      'Exit codes: 0 enrolled, 1 refused (wrong, used or expired token; CA fingerprint mismatch; hub unreachable), 2 usage error.',
  )
  .action(async (opts: { hub: string; token: string; caFingerprint: string; config: string; dir?: string; id?: string; mqttUrl?: string; json?: boolean }) => {
    try {
      const r = await enroll({
        hub: opts.hub, token: opts.token, caFingerprint: opts.caFingerprint, config: opts.config,
        ...(opts.dir ? { dir: opts.dir } : {}), ...(opts.id ? { id: opts.id } : {}), ...(opts.mqttUrl ? { mqttUrl: opts.mqttUrl } : {}),
        say: (line) => { if (!opts.json) console.error(line); },
      });
      if (opts.json) console.log(JSON.stringify(r));
      else {
        console.log(`enrolled ${r.gateway}${r.communeCode ? ` (commune ${r.communeCode})` : ''}: certificate valid until ${new Date(r.notAfter).toISOString()}`);
        console.log(`  key ${r.key} (0600, made here), certificate ${r.cert}, CA ${r.ca}`);
        console.log(`  ${r.config}: uplink.url ${r.mqttUrl}; check it with: ioc-edge check --config ${opts.config}`);
      }
    } catch (err) {
      if (err instanceof EnrollError) {
        console.error(`ioc-edge: enroll: ${err.message}`);
        process.exit(err.kind === 'usage' ? 2 : 1);
      }
      console.error(`ioc-edge: enroll failed: ${(err as Error).message}`);
      process.exit(1);
    }
  });

program
  .command('status')
  .description('show link state, outbox depth, oldest unsent age, drops and drivers (for a technician at the box); reads the outbox without changing it')
  .option(...configOption)
  .option('--json', 'print JSON instead of text')
  .addHelpText('after', '\nExamples:\n  ioc-edge status --config /etc/ioc/edge.yaml\n  ioc-edge status --config /etc/ioc/edge.yaml --json')
  .action((opts: { config: string; json?: boolean }) => {
    let config;
    try { ({ config } = loadEdgeConfig(opts.config)); } catch (e) { fail(e); }
    const file = statusFilePath(config);
    const running = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
    // The outbox itself is the truth for depth and age, whether or not the gateway runs; read
    // only, so this command never changes it (see outbox/reader.ts).
    let stats = null;
    if (existsSync(outboxPath(config))) {
      const outbox = (() => { try { return OutboxReader.open(outboxPath(config), { caps: config.outbox }); } catch (e) { fail(e); } })();
      try {
        stats = outbox.stats();
      } finally {
        outbox.close();
      }
    }
    const report = { gateway: config.gateway.id, hub: config.uplink.url, outbox: stats, lastStatus: running };
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  });

program
  .command('outbox')
  .description('show the outbox depth; --export writes every unsent reading to a file for `ioc-hub import` (the outbox is only read)')
  .option(...configOption)
  .option('--export <file>', 'write unsent rows (JSON lines) to this file')
  .addHelpText('after', '\nExample (site without a link; carry the file to the hub):\n  ioc-edge outbox --config edge.yaml --export /media/usb/gw-hue-01.jsonl\n  ioc-hub import /media/usb/gw-hue-01.jsonl --config hub.yaml')
  .action((opts: { config: string; export?: string }) => {
    let config;
    try { ({ config } = loadEdgeConfig(opts.config)); } catch (e) { fail(e); }
    if (!existsSync(outboxPath(config))) fail(new Error(`no outbox at ${outboxPath(config)} (has the gateway run with this config?)`));
    // Read only: exporting never deletes a row (they go when the hub acknowledges them).
    const outbox = (() => { try { return OutboxReader.open(outboxPath(config), { caps: config.outbox }); } catch (e) { fail(e); } })();
    try {
      const s = outbox.stats();
      console.log(`outbox ${outboxPath(config)}: ${s.depth} unsent reading(s), oldest ${s.oldestUnsentAgeS.toFixed(0)} s, ${s.bytes} bytes, seq ${s.ackedUpTo + 1}..${s.lastSeq}, dropped ${s.dropped}`);
      if (opts.export) {
        const n = outbox.exportUnsent(opts.export, config.gateway.id, (done: number, total: number) => {
          process.stderr.write(`\rexporting ${done}/${total}`);
        });
        process.stderr.write('\n');
        console.log(`exported ${n} reading(s) to ${opts.export}; rows stay in the outbox until the hub acknowledges them`);
      }
    } finally {
      outbox.close();
    }
  });

await program.parseAsync(process.argv);
