// The built-in ICAP service in a process of its own (listenIcapServer, default detectors, a free
// port on 127.0.0.1), as an operator runs it apart from the proxy (`dlp-proxy icap-server`): the
// large-transfer scenarios use it so that the proxy's RSS is the proxy's alone and the service's
// is measured beside it. Says `ready` with its port; exits on SIGTERM or when the bench goes away.
// usage (forked by bench/lib/targets.ts): icap-server-child.ts
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer } from '../../src/icap-server/index.js';

if (!process.send) {
  process.stderr.write('usage: icap-server-child.ts (forked with IPC)\n');
  process.exit(2);
}

const server = await listenIcapServer({ config: parseConfig({ icapServer: { port: 0 } }).icapServer, port: 0 });
process.send({ type: 'ready', port: server.port });
const stop = () => void server.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
