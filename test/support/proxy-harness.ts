// Start the whole app (startApp) for a test: port 0, a temp CA dir, logs kept in memory as
// parsed JSON lines, the built-in ICAP server off unless asked for.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { tempDir } from './temp-dir.js';

export interface TestProxy {
  app: App;
  port: number;
  caDir: string;
  caPem: string;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

type Doc = Record<string, unknown>;

function merge(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? merge(base[k] as Doc, v as Doc) : v;
  }
  return out;
}

/** The built-in ICAP service (its default av and dlp services) on a free loopback port. */
export function startBuiltinIcap(): Promise<IcapServerHandle> {
  return listenIcapServer({ config: parseConfig({ icapServer: { port: 0 } }).icapServer, port: 0 });
}

/** A CA directory shared by the tests of one file (key generation is the slow part); removed after the file. */
export function tempCaDir(): string {
  return tempDir('dlp-proxy-ca-');
}

export async function startTestProxy(overrides: Doc = {}, options: { caDir?: string } = {}): Promise<TestProxy> {
  const caDir = options.caDir ?? tempCaDir();
  const doc = merge(
    {
      proxy: { port: 0 },
      ca: { dir: caDir },
      icapServer: { enabled: false },
      admin: { enabled: false },
      // each proxy its own incident store, removed with the test file's temp dirs
      incidents: { dir: tempDir('dlp-proxy-incidents-') },
      policy: [],
      log: { level: 'debug' },
    },
    overrides,
  );
  const config = parseConfig(doc, 'test');
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const app = await startApp(config, { logger });
  return {
    app,
    port: app.proxyPort,
    caDir,
    caPem: fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'),
    logs,
    close: () => app.close(),
  };
}
