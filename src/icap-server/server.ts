// The built-in ICAP server in the current thread: a TCP listener whose connections each run an
// IcapConnection against the `dlp` and `av` services. startIcapServer() runs this in a worker
// thread so scanning never blocks the proxy's event loop; tests and the CLI may run it directly.
import net from 'node:net';
import { ProxyError } from '../core/errors.js';
import type { IcapServerConfig } from './detectors/detector-set.js';
import { IcapConnection } from './icap-connection.js';
import { buildServices, type ServiceRuntime } from './services.js';

export interface IcapServerHandle {
  port: number;
  /** The ISTag of each service, as announced in OPTIONS. */
  istags: Record<string, string>;
  close(): Promise<void>;
}

export interface ListenOptions {
  config: IcapServerConfig;
  /** Overrides config.host / config.port (tests listen on port 0). */
  host?: string;
  port?: number;
}

export async function listenIcapServer(options: ListenOptions): Promise<IcapServerHandle> {
  const { config } = options;
  const services: Map<string, ServiceRuntime> = buildServices(config);
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
  return {
    port,
    istags: Object.fromEntries([...services].map(([name, s]) => [name, s.istag])),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
