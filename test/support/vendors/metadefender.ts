// OPSWAT MetaDefender ICAP Server, as its documentation says it answers:
//   https://www.opswat.com/docs/mdicap/operating/icap-response-headers (X-Response-Info "available in
//     all responses", Allowed | Blocked | Options; X-Blocked-Reason, X-Response-Desc, X-Virus-ID,
//     X-Infection-Found Type=0 infection / Type=2 container violation, e.g. "Encrypted Archive";
//     X-Violations-Found; X-ICAP-Profile)
//   https://www.opswat.com/docs/mdicap/knowledge-base/what-are-icap-s-server-responses-for-various-post-analysis-file-
//     (204 for a clean file when the client allows 204; "200 OK does not mean the file is clean")
//   https://www.opswat.com/docs/mdicap/knowledge-base/why-does-icap-return-a-blocked-while-metadefender-core-is-still-
//     (a failure to reach Core comes back as BLOCKED with "Error received from Metadefender Core")
//   https://www.opswat.com/docs/mdicap/integrations (separate services: /OMSScanReq-AV for REQMOD,
//     /OMSScanResp-AV for RESPMOD; here req… and resp…)
// Assumed (not in the pages found): the ISTag's shape, the block page's HTML, and that a workflow
// letting an infected file through answers 204 with X-Response-Info: Allowed and the finding
// headers (the headers are documented as present "if violations were found", the action as what
// the server applied).
import type { HeaderList } from '../../../src/core/types.js';
import { bare, page, withFoldedViolations, type VendorScript } from './simulator.js';

const ISTAG = '"001-009-000123"';
const blockedPage = '<html><body><h1>Blocked by MetaDefender</h1><p>The file you requested was blocked.</p></body></html>';
const finding = (threat: string, type: 0 | 2, reason: string): HeaderList => [
  ['ISTag', ISTAG],
  ['X-ICAP-Profile', 'Proxy'],
  ['X-Response-Info', 'Blocked'],
  ['X-Blocked-Reason', reason],
  ['X-Response-Desc', reason],
  ['X-Virus-ID', threat],
  ['X-Infection-Found', `Type=${type}; Resolution=0; Threat=${threat};`],
  ['X-Violations-Found', 'FOLD'],
];

export const metadefender: VendorScript = {
  vendor: 'metadefender',
  product: 'OPSWAT MetaDefender ICAP Server',
  finds: 'eicar',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['X-Response-Info', 'Options']], previewBytes: 0, maxConnections: 1000 },
  answer(turn) {
    if (turn.scenario === 'clean') return { send: bare(204, [['ISTag', ISTAG], ['X-Response-Info', 'Allowed']]) };
    if (turn.scenario === 'error') return { send: page(403, 'Forbidden', blockedPage, [['ISTag', ISTAG], ['X-Response-Info', 'Blocked'], ['X-Response-Desc', 'Error received from Metadefender Core']]) };
    if (turn.scenario === 'encrypted') return { send: withFoldedViolations(page(403, 'Forbidden', blockedPage, finding('Encrypted Archive', 2, 'Encrypted Archive')), [['secret.zip', 'Encrypted Archive']]) };
    if (turn.monitorMode) {
      return { send: bare(204, [['ISTag', ISTAG], ['X-Response-Info', 'Allowed'], ['X-Virus-ID', 'EICAR Test String'], ['X-Infection-Found', 'Type=0; Resolution=0; Threat=EICAR Test String;']]) };
    }
    return { send: withFoldedViolations(page(403, 'Forbidden', blockedPage, finding('EICAR Test String', 0, 'Infected')), [['eicar.com', 'EICAR Test String']]) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: ['EICAR Test String'], reason: 'Infected' } },
      RESPMOD: { block: { names: ['EICAR Test String'], reason: 'Infected' } },
    },
    serverMonitor: { REQMOD: { pass: { names: ['EICAR Test String'] } }, RESPMOD: { pass: { names: ['EICAR Test String'] } } },
    encrypted: { block: { names: ['Encrypted Archive'], reason: 'Encrypted Archive' } },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
