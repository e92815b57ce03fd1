// Worker-thread entry of the built-in ICAP server: listens with the config it was given, reports
// { type: 'listening', port, istags } or { type: 'error', message }, and closes on 'close'.
import { parentPort, workerData } from 'node:worker_threads';
import type { IcapServerConfig } from './detectors/detector-set.js';
import { listenIcapServer } from './server.js';

const data = workerData as { config: IcapServerConfig; host?: string; port?: number };
const port = parentPort;
if (port === null) throw new Error('icap-server/worker.ts must run in a worker thread');

try {
  const handle = await listenIcapServer(data);
  port.on('message', (message: unknown) => {
    if (message === 'close') void handle.close().then(() => port.close());
  });
  port.postMessage({ type: 'listening', port: handle.port, istags: handle.istags });
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
