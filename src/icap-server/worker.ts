// Worker-thread entry of the built-in ICAP server: listens with the config it was given, reports
// { type: 'listening', port, istags } or { type: 'error', message }, reloads its data sets on
// 'reload' (answering { type: 'reloaded', istags } or { type: 'reload-failed', message }), reports
// every ISTag change as { type: 'istags', istags }, and closes on 'close'.
import { parentPort, workerData } from 'node:worker_threads';
import type { IcapServerConfig } from './detectors/detector-set.js';
import { listenIcapServer } from './server.js';

const data = workerData as { config: IcapServerConfig; host?: string; port?: number };
const port = parentPort;
if (port === null) throw new Error('icap-server/worker.ts must run in a worker thread');

try {
  const handle = await listenIcapServer(data);
  handle.onIstagChange((istags) => port.postMessage({ type: 'istags', istags }));
  port.on('message', (message: unknown) => {
    if (message === 'close') void handle.close().then(() => port.close());
    if (message === 'reload') {
      handle.reload().then(
        (istags) => port.postMessage({ type: 'reloaded', istags }),
        (err: unknown) => port.postMessage({ type: 'reload-failed', message: err instanceof Error ? err.message : String(err) }),
      );
    }
  });
  port.postMessage({ type: 'listening', port: handle.port, istags: handle.istags });
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
