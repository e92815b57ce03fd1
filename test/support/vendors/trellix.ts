// Trellix (McAfee) Web Gateway / DLP Prevent. No page of the vendor's own on its ICAP answers was in
// the corpora searched (docs, pages, issues); this follows what integrators captured and coded:
//   https://github.com/toolarium/toolarium-icap-client/pull/8 (a block captured from McAfee Web
//     Gateway: ICAP/1.0 200, ISTag "008080-0.2.82-10738-117660-00", Encapsulated res-hdr/res-body,
//     X-Media-Type, X-Virus-Name: EICAR test file, X-Block-Reason: Malware found, X-WWBlockResult: 80)
//   owncloud/files_antivirus lib/Scanner/ICAPResponseAnalyser.php ("McAfee 11 reports the virus name
//     in res-hdr"; "200 ICAP status with encapsulated 403 HTTP status means infected")
//   https://docs.trellix.com/data-and-email/docs/web-requirements (Trellix DLP Network Prevent wants
//     X-Authenticated-User, X-Client-IP and X-Server-IP from the ICAP client)
//   X-MFE-PREVENT: SCANFAIL for an object it could not scan: from this project's design notes
//     (DESIGN.md); no public capture was found.
// Assumed: the OPTIONS Server text, the block page's HTML, 500 for an internal error.
import { bare, page, type VendorScript } from './simulator.js';

const ISTAG = '"008080-0.2.82-10738-117660-00"';

export const trellix: VendorScript = {
  vendor: 'trellix',
  product: 'Trellix (McAfee) Web Gateway',
  finds: 'eicar',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['Server', 'McAfee Web Gateway 11.2.9']], previewBytes: 1024, maxConnections: 500 },
  answer(turn) {
    const istag: [string, string] = ['ISTag', ISTAG];
    if (turn.scenario === 'error') return { send: bare(500, [istag]) };
    if (turn.scenario === 'encrypted') return { send: bare(204, [istag, ['X-MFE-PREVENT', 'SCANFAIL']]) };
    if (turn.scenario === 'clean') return { send: bare(204, [istag]) };
    const html = '<html><body><h1>Virus Found</h1><p>The transferred file contained a virus and was therefore blocked.</p></body></html>';
    return { send: page(403, 'Forbidden', html, [istag, ['X-Media-Type', 'text/plain'], ['X-Block-Reason', 'Malware found'], ['X-WWBlockResult', '80']], [['X-Virus-Name', 'EICAR test file']]) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: ['Malware found', 'EICAR test file'], reason: 'Malware found' } },
      RESPMOD: { block: { names: ['Malware found', 'EICAR test file'], reason: 'Malware found' } },
    },
    encrypted: { unavailable: 'SCAN_UNSCANNABLE', failClass: 'unscannable' },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
