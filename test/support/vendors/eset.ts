// ESET Server Security / Gateway Security in ICAP mode. ESET's own help pages were not in the
// corpora searched; this follows a capture from ESET Server Security for Linux and an issue thread:
//   https://github.com/nextcloud/files_antivirus/issues/303 (c-icap-client against ESET: ICAP/1.0
//     200 OK, ISTag "970d18076ed48d79-1701775538", Encapsulated res-hdr=0, res-body=70,
//     X-Infection-Found: Type=0; Resolution=0; Threat=Eicar;, X-Virus-ID: Testdatei,
//     X-Response-Info: Blocked, X-Response-Description: Gelöscht (UTF-8), then HTTP/1.1 403
//     Forbidden, Content-Type: text/html, Content-Length: 0)
//   https://github.com/nextcloud/files_antivirus/issues/237 ("ESET does not support REQMODE")
//   https://github.com/rspamd/rspamd/issues/3495 (ESET File Security 7.2 answers 405 to clients it
//     does not accept)
// Assumed: no Service text in OPTIONS (the ISTag's shape is what `auto` recognises), 204 for an
// encrypted archive, 500 for an internal error.
import { bare, page, utf8Value, type VendorScript } from './simulator.js';

const ISTAG = '"970d18076ed48d79-1701775538"';

export const eset: VendorScript = {
  vendor: 'eset',
  product: 'ESET Server Security (ICAP)',
  finds: 'eicar',
  methods: ['RESPMOD'],
  options: { istag: ISTAG, headers: [], previewBytes: 1024, maxConnections: 32 },
  answer(turn) {
    const istag: [string, string] = ['ISTag', ISTAG];
    if (turn.scenario === 'error') return { send: bare(500, [istag]) };
    if (turn.scenario !== 'violation') return { send: bare(204, [istag]) };
    return {
      send: page(403, 'Forbidden', null, [
        istag,
        ['X-Infection-Found', 'Type=0; Resolution=0; Threat=Eicar;'],
        ['X-Virus-ID', 'Testdatei'],
        ['X-Response-Info', 'Blocked'],
        ['X-Response-Description', utf8Value('Gelöscht')],
      ]),
    };
  },
  expect: {
    violation: {
      RESPMOD: { block: { names: ['Eicar', 'Testdatei'], reason: 'Gelöscht' } },
    },
    encrypted: { pass: {} },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
