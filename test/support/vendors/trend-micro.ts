// Trend Micro InterScan Web Security (IWSVA) and its ICAP scanners, as Trend Micro's pages say:
//   https://docs.trendmicro.com/en-us/documentation/article/trend-vision-one-fs-ca-icap-scanner-responses
//     (204 clean; 200 + HTTP 403 "Virus Detected" for malware; 200 + HTTP 500 for a scan error, e.g.
//     "Too many files in the zip. (-69)", or a system error)
//   https://docs.trendmicro.com/all/ent/ddan/v6.8/en-us/ddan_6.8_olh/ICAP-Header-Response.html
//     (Server: "<product> <version> Build <n>", ISTag "10.300.1021", X-Virus-ID, X-Infection-Found
//     "Type=0; Resolution=2; Threat=…;", and X-Response-Desc on every answer, clean ones included)
//   https://success.trendmicro.com/solution/1121601 (IWSVA in ICAP mode: both methods; large-file
//     "scan before delivering" needs the client's X-TE: trailers, which dlp-proxy does not send, so
//     IWSVA answers once the whole file is scanned)
// Assumed: IWSVA's Service text, the page's text, the threat name Trend gives EICAR
// ("Eicar_test_file"), and that IWSVA's internal error is the same 200 + HTTP 500.
import { bare, page, type VendorScript } from './simulator.js';

const ISTAG = '"10.300.1021"';

export const trendMicro: VendorScript = {
  vendor: 'trend-micro',
  product: 'Trend Micro InterScan Web Security Virtual Appliance',
  finds: 'eicar',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['Service', 'Trend Micro InterScan Web Security Virtual Appliance 6.5']], previewBytes: 1024, maxConnections: 300 },
  answer(turn) {
    const istag: [string, string] = ['ISTag', ISTAG];
    if (turn.scenario === 'clean') return { send: bare(204, [istag, ['X-Response-Desc', 'URL: No risk rating from WRS; FILE: No risk found']]) };
    if (turn.scenario === 'encrypted') return { send: page(500, 'Internal Server Error', 'The file is password protected. (-71)', [istag]) };
    if (turn.scenario === 'error') return { send: page(500, 'Internal Server Error', 'System error', [istag]) };
    return {
      send: page(403, 'Forbidden', 'Virus Detected', [istag, ['X-Virus-ID', 'Eicar_test_file'], ['X-Infection-Found', 'Type=0; Resolution=2; Threat=Eicar_test_file;'], ['X-Response-Desc', 'FILE: Detected by ATSE']]),
    };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: ['Eicar_test_file'], reason: 'FILE: Detected by ATSE' } },
      RESPMOD: { block: { names: ['Eicar_test_file'], reason: 'FILE: Detected by ATSE' } },
    },
    encrypted: { unavailable: 'SCAN_UNSCANNABLE', failClass: 'unscannable' },
    error: { unavailable: 'SCAN_UNSCANNABLE', failClass: 'unscannable' },
  },
};
