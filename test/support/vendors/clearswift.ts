// Clearswift Secure ICAP Gateway, as its help says it answers:
//   https://clearswifthelp.clearswift.com/SIG/480/en/Content/Sections/SystemsCenter/SYCICAPVirusResponseHeaders.htm
//   https://hstechdocs.helpsystems.com/manuals/clearswift/sig/english/6_0_0/Content/Sections/SystemsCenter/SYCICAPVirusResponseHeader.htm
//     ("All three headers are returned whenever a virus or a policy violation is identified":
//     X-Virus-ID, X-Infection-Found Type 0 virus / 1 policy violation, Resolution 1 repaired /
//     2 blocked, and X-Violations-Found, one group of four lines per violation; an encrypted
//     archive is a policy violation: "Threat=Encrypted Archive")
// Assumed: the OPTIONS Service text and ISTag, the block page, 500 for an internal error.
import { bare, page, withFoldedViolations, type VendorScript } from './simulator.js';

const ISTAG = '"SIG-6.0.0-1234"';
const blocked = (threat: string, type: 0 | 1) =>
  withFoldedViolations(
    page(403, 'Forbidden', `<html><body><h1>Blocked</h1><p>${threat}</p></body></html>`, [
      ['ISTag', ISTAG],
      ['X-Virus-ID', threat],
      ['X-Infection-Found', `Type=${type}; Resolution=2; Threat=${threat};`],
      ['X-Violations-Found', 'FOLD'],
    ]),
    [[type === 0 ? 'eicar.com' : 'secret.zip', threat]],
  );

export const clearswift: VendorScript = {
  vendor: 'clearswift',
  product: 'Clearswift Secure ICAP Gateway',
  finds: 'eicar',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['Service', 'Clearswift Secure ICAP Gateway 6.0']], previewBytes: 1024, maxConnections: 250 },
  answer(turn) {
    if (turn.scenario === 'error') return { send: bare(500, [['ISTag', ISTAG]]) };
    if (turn.scenario === 'encrypted') return { send: blocked('Encrypted Archive', 1) };
    if (turn.scenario === 'clean') return { send: bare(204, [['ISTag', ISTAG]]) };
    return { send: blocked('EICAR Test String', 0) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: ['EICAR Test String'], reason: 'threat reported by the scanning service' } },
      RESPMOD: { block: { names: ['EICAR Test String'], reason: 'threat reported by the scanning service' } },
    },
    encrypted: { block: { names: ['Encrypted Archive'], reason: 'threat reported by the scanning service' } },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
