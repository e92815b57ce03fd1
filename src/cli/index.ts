// The command line: `start`, `check-config`, `ca init|export`, `icap probe`, `icap-server`,
// `hash-password`. Each command returns its exit code; only main.ts exits the process.
import fs from 'node:fs';
import { ConfigError, loadConfig } from '../config/index.js';
import { startApp } from '../app.js';
import { isClusterWorker, runCluster, runClusterWorker } from '../cluster/index.js';
import { createLogger } from '../log/index.js';
import { hashPassword } from '../proxy/index.js';
import { parseArgs, stringFlag } from './args.js';
import { caCommand, checkConfig } from './config-commands.js';
import { icapProbe } from './icap-probe.js';
import { runIcapServer } from './icap-server.js';

const USAGE = `usage: dlp-proxy <command> [options]

  start [--config FILE]              run the proxy (config: --config, $DLP_PROXY_CONFIG, config/default.yaml);
                                     workers > 1: one process per worker, SIGHUP reloads, SIGTERM drains;
                                     SIGHUP re-reads the built-in service's EDM and fingerprint files
  check-config [FILE]                validate a config file; prints every error with its path
  ca init [--config FILE]            create the CA (ca/ca.pem, ca/ca-key.pem) if it does not exist
  ca export [--format pem|der]       print the CA certificate
  icap probe URL [--test] [--name N] [--file F] [--reqmod|--respmod] [--preview N] [--ca F --cert F --key F] [--servername N] [--insecure]
                                     test an ICAP service: OPTIONS, or one transaction with a file
  icap-server [--config FILE]        run only the built-in ICAP DLP/AV service (config icapServer);
                                     SIGHUP re-reads its EDM and fingerprint files
  hash-password                      read a password on stdin, print the scrypt hash for proxy.auth.users
`;

export async function runCli(argv: readonly string[], io = { out: process.stdout, err: process.stderr, in: process.stdin }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest);
      case 'check-config':
        return checkConfig(rest, io.out, io.err);
      case 'ca':
        return await caCommand(rest, io.out, io.err);
      case 'icap':
        if (rest[0] !== 'probe') {
          io.err.write('usage: dlp-proxy icap probe URL [options]\n');
          return 2;
        }
        return await icapProbe(rest.slice(1), io.out);
      case 'icap-server': {
        const { config } = loadConfig({ file: stringFlag(parseArgs(rest), 'config') });
        await runIcapServer(config.icapServer);
        return 0;
      }
      case 'hash-password': {
        const password = (await readAll(io.in)).replace(/\r?\n$/, '');
        if (password === '') {
          io.err.write('an empty password is refused\n');
          return 2;
        }
        io.out.write(`${await hashPassword(password)}\n`);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
        io.out.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err.write(`unknown command ${command}\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) io.err.write(`${issue.path}: ${issue.message}\n`);
      return 1;
    }
    io.err.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function start(argv: readonly string[]): Promise<number> {
  if (isClusterWorker()) return runClusterWorker();
  const args = parseArgs(argv);
  const { config, file } = loadConfig({ file: stringFlag(args, 'config') });
  if (config.workers > 1) {
    const logger = createLogger(config.log).child({ role: 'primary' });
    return runCluster({ file, text: fs.readFileSync(file, 'utf8'), config, logger });
  }
  const app = await startApp(config);
  // One process: SIGHUP re-reads the built-in service's data sets; the config file itself is re-read only in cluster mode.
  process.on('SIGHUP', () => {
    app.logger.warn({ log: 'cluster' }, 'SIGHUP: the config file is re-read only with workers >= 2 (cluster mode); restart to apply a new config');
    app.reloadIcapServer().then(
      (istags) => istags && app.logger.info({ log: 'icap-server', istags }, 'SIGHUP: built-in ICAP service data sets reloaded'),
      (err: unknown) => app.logger.error({ log: 'icap-server', err: err instanceof Error ? err.message : String(err) }, 'SIGHUP: built-in ICAP service data sets not reloaded; those in force stay'),
    );
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      app.logger.info({ signal, deadlineMs: config.shutdown.drainTimeoutMs }, 'stopping: draining');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.drain(config.shutdown.drainTimeoutMs);
  return 0;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
