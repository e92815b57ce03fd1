// Sophos (SAVDI's ICAP service). No Sophos page on its ICAP answers was in the corpora searched
// (docs, pages, issues, code), nor an issue thread or proxy code quoting one. The simulator answers
// with the conventions every documented AV ICAP server here shares (draft-stecher-icap-subid
// X-Infection-Found / X-Virus-ID on a 200 carrying an HTTP 403 page; 204 when clean; 500 on a
// failure), so the suite pins what dlp-proxy does with a product it knows only by name.
// Assumed: everything product-specific: the Service text, ISTag, threat name ("EICAR-AV-Test" is
// the name Sophos gives EICAR), and that an encrypted archive is answered 204.
import { bare, page, type VendorScript } from './simulator.js';

const ISTAG = '"SAVDI-2.7.1-5.99"';

export const sophos: VendorScript = {
  vendor: 'sophos',
  product: 'Sophos (SAVDI ICAP)',
  finds: 'eicar',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['Service', 'Sophos Anti-Virus Dynamic Interface (SAVDI) ICAP']], previewBytes: 1024, maxConnections: 100 },
  answer(turn) {
    const istag: [string, string] = ['ISTag', ISTAG];
    if (turn.scenario === 'error') return { send: bare(500, [istag]) };
    if (turn.scenario !== 'violation') return { send: bare(204, [istag]) };
    return { send: page(403, 'Forbidden', '<html><body><h1>Virus detected: EICAR-AV-Test</h1></body></html>', [istag, ['X-Infection-Found', 'Type=0; Resolution=2; Threat=EICAR-AV-Test;'], ['X-Virus-ID', 'EICAR-AV-Test']]) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: ['EICAR-AV-Test'], reason: 'threat reported by the scanning service' } },
      RESPMOD: { block: { names: ['EICAR-AV-Test'], reason: 'threat reported by the scanning service' } },
    },
    encrypted: { pass: {} },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
