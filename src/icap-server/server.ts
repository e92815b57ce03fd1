// The built-in ICAP server in the current thread: a TCP listener whose connections each run an
// IcapConnection against the `dlp` and `av` services. startIcapServer() runs this in a worker
// thread so scanning never blocks the proxy's event loop; tests and the CLI may run it directly.
// reload() re-reads the EDM and fingerprint files (and asks clamd its signature version) and swaps
// the services in place: transactions under way finish with the detectors they started with, the
// next ones get the new detectors and ISTag (RFC 3507 §4.7: the proxy's cached verdicts of the old
// tag retire). With icapServer.av.clamd the av service's ISTag also follows clamd's signature
// version, polled every versionPollMs. Signals belong to the process owner: the CLI and the
// cluster primary call reload() on SIGHUP (reloadOnSighup()), the app through its own reload.
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyError } from '../core/errors.js';
import { loadDataSets } from './detectors/data-sets.js';
import type { IcapServerConfig } from './detectors/detector-set.js';
import { ClamdClient, ClamdSignatureWatch } from './extract/clamd-client.js';
import { IcapConnection } from './icap-connection.js';
import { buildServices, type ServiceRuntime } from './services.js';

export type IstagListener = (istags: Record<string, string>) => void;

export interface IcapServerHandle {
  port: number;
  /** The ISTag of each service, as announced in OPTIONS (updated by reload() and clamd updates). */
  istags: Record<string, string>;
  /**
   * Re-read the EDM and fingerprint files and ask clamd its signature version; resolves with the
   * ISTags in force. A file that cannot be read rejects and the data sets in force stay.
   */
  reload(): Promise<Record<string, string>>;
  /** `fn` runs whenever an ISTag changes (a reload, a new clamd signature version); returns the remover. */
  onIstagChange(fn: IstagListener): () => void;
  close(): Promise<void>;
}

/** Published after each SIGHUP reload of the data sets: { istags } or { error } (the message). */
export const reloadChannel = diagnosticsChannel.channel('dlp-proxy:icap-server:reload');

/** SIGHUP → reload(), for the process that owns the signal (CLI, cluster primary); returns the remover. */
export function reloadOnSighup(reload: () => Promise<Record<string, string>>): () => void {
  const onHup = () =>
    void reload().then(
      (istags) => reloadChannel.publish({ istags }),
      (err: unknown) => reloadChannel.publish({ error: err instanceof Error ? err.message : String(err) }),
    );
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

/** At start the av ISTag waits this long for clamd's first answer; a clamd that comes later changes it then. */
const FIRST_VERSION_WAIT_MS = 2_000;

export interface ListenOptions {
  config: IcapServerConfig;
  /** Overrides config.host / config.port (tests listen on port 0). */
  host?: string;
  port?: number;
}

export async function listenIcapServer(options: ListenOptions): Promise<IcapServerHandle> {
  const { config } = options;
  const listeners = new Set<IstagListener>();
  /** handle.istags: what OPTIONS announces now */
  const current: Record<string, string> = {};
  let dataSets = await loadDataSets(config);
  let services: Map<string, ServiceRuntime> | undefined;
  const istags = (): Record<string, string> => Object.fromEntries([...(services ?? [])].map(([name, s]) => [name, s.istag]));
  // Swaps every service in place and tells the listeners when a tag moved.
  const rebuild = () => {
    if (services === undefined) return;
    for (const [name, service] of buildServices(config, dataSets, watch?.version)) services.set(name, service);
    const now = istags();
    if (Object.entries(now).every(([name, tag]) => current[name] === tag)) return;
    Object.assign(current, now);
    for (const fn of listeners) fn({ ...now });
  };
  const clamd = config.av.clamd;
  const watch = clamd === undefined ? undefined : new ClamdSignatureWatch(new ClamdClient(clamd), clamd.versionPollMs, rebuild);
  if (watch) await Promise.race([watch.poll(), sleep(FIRST_VERSION_WAIT_MS, undefined, { ref: false })]);
  services = buildServices(config, dataSets, watch?.version);
  Object.assign(current, istags());
  const live = services;
  let reloading: Promise<Record<string, string>> = Promise.resolve({});
  const reload = () => {
    // One reload at a time; each reads the files afresh.
    reloading = reloading.catch(() => ({})).then(async () => {
      const [next] = await Promise.all([loadDataSets(config), watch?.poll()]);
      dataSets = next;
      rebuild();
      return { ...current };
    });
    return reloading;
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new IcapConnection(socket, { config, services: live });
  });
  // Announced as Max-Connections in OPTIONS; further connections are closed at once by node:net.
  server.maxConnections = config.maxConnections;
  const host = options.host ?? config.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      watch?.stop();
      reject(new ProxyError('CONFIG_INVALID', `ICAP server cannot listen on ${host}:${options.port ?? config.port}: ${err.message}`, { cause: err }));
    });
    server.listen(options.port ?? config.port, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const handle: IcapServerHandle = {
    port,
    istags: current,
    reload,
    onIstagChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () =>
      new Promise<void>((resolve) => {
        watch?.stop();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return handle;
}
