// The enforcement matrix against c-icap: srv_cfg_filter (TOP-SECRET and card rules) as the DLP
// service on uploads, virus_scan with ClamAV (offline test signatures) as the AV service on
// downloads. Installed from Debian's packages and started by the harness.
import { enforcementSuite } from '../support/enforcement-suite.js';
import { startCicap } from '../support/peers/cicap.js';

enforcementSuite('c-icap (srv_cfg_filter + virus_scan/ClamAV)', async () => {
  const cicap = await startCicap({ services: ['dlp', 'av'] });
  return { dlpUrl: cicap.url('dlp'), avUrl: cicap.url('av'), vendor: 'c-icap', stop: () => cicap.stop() };
});
