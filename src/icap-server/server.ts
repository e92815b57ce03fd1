// The built-in ICAP server in the current thread: a TCP listener whose connections each run an
// IcapConnection against the `dlp` and `av` services. startIcapServer() runs this in a worker
// thread so scanning never blocks the proxy's event loop; tests and the CLI may run it directly.
// reload() re-reads the EDM and fingerprint files and swaps the services in place: transactions
// under way finish with the detectors they started with, the next ones get the new detectors
// and ISTag (RFC 3507 §4.7: the proxy's cached verdicts of the old tag retire).
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { ProxyError } from '../core/errors.js';
import { loadDataSets } from './detectors/data-sets.js';
import type { IcapServerConfig } from './detectors/detector-set.js';
import { IcapConnection } from './icap-connection.js';
import { buildServices, type ServiceRuntime } from './services.js';

export interface IcapServerHandle {
  port: number;
  /** The ISTag of each service, as announced in OPTIONS (updated by reload()). */
  istags: Record<string, string>;
  /**
   * Re-read the EDM and fingerprint files (SIGHUP does this when any is configured); resolves
   * with the ISTags in force. A file that cannot be read rejects and the data sets in force stay.
   */
  reload(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** Published after each SIGHUP reload of the data sets: { istags } or { error } (the message). */
export const reloadChannel = diagnosticsChannel.channel('dlp-proxy:icap-server:reload');

/** SIGHUP → reload(), while the server runs, when it has data sets to reload; returns the remover. */
export function reloadOnSighup(config: IcapServerConfig, reload: () => Promise<Record<string, string>>): () => void {
  if (config.edm.length === 0 && config.fingerprints.length === 0) return () => undefined;
  const onHup = () =>
    void reload().then(
      (istags) => reloadChannel.publish({ istags }),
      (err: unknown) => reloadChannel.publish({ error: err instanceof Error ? err.message : String(err) }),
    );
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

export interface ListenOptions {
  config: IcapServerConfig;
  /** Overrides config.host / config.port (tests listen on port 0). */
  host?: string;
  port?: number;
}

export async function listenIcapServer(options: ListenOptions): Promise<IcapServerHandle> {
  const { config } = options;
  const services: Map<string, ServiceRuntime> = buildServices(config, await loadDataSets(config));
  const istags = (): Record<string, string> => Object.fromEntries([...services].map(([name, s]) => [name, s.istag]));
  let reloading: Promise<Record<string, string>> = Promise.resolve({});
  const reload = () => {
    // One reload at a time; each reads the files afresh.
    reloading = reloading.catch(() => ({})).then(async () => {
      const next = buildServices(config, await loadDataSets(config));
      for (const [name, service] of next) services.set(name, service);
      return Object.assign(handle.istags, istags());
    });
    return reloading;
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new IcapConnection(socket, { config, services });
  });
  // Announced as Max-Connections in OPTIONS; further connections are closed at once by node:net.
  server.maxConnections = config.maxConnections;
  const host = options.host ?? config.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new ProxyError('CONFIG_INVALID', `ICAP server cannot listen on ${host}:${options.port ?? config.port}: ${err.message}`, { cause: err })),
    );
    server.listen(options.port ?? config.port, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  // In a worker thread signals do not arrive: startIcapServer() listens for them in the main thread.
  const stopSignals = isMainThread ? reloadOnSighup(config, reload) : () => undefined;
  const handle: IcapServerHandle = {
    port,
    istags: istags(),
    reload,
    close: () =>
      new Promise<void>((resolve) => {
        stopSignals();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return handle;
}
