// Forcepoint DLP (the protector's ICAP server), as Forcepoint's documentation says it answers:
//   https://help.forcepoint.com/dlp/10/dlp_deploy/060A132B-8918-40CF-BC4E-2E6E70D376DD.html
//     ("in enforcement mode, returns a response indicating whether to block or allow the
//     transaction. In monitoring mode, the response is always allow.")
//   https://help.forcepoint.com/websec/en-us/on-prem/85/wcg_help/guid-c02e8368-447d-4ef4-8e31-b156c8e23898.html
//     (a blocked posting gets Forcepoint DLP's block page, forwarded as 403 Forbidden; the page must
//     be larger than 512 bytes or some browsers show their own error)
//   https://help.forcepoint.com/dlp/10/deployctr/C24CBAAF-C37C-4FB8-AC71-A2401E2FCA90.html
//     (Forcepoint's ICAP Service announces the ISTag "WEBSENSE")
// Assumed (not in the pages found): that the DLP protector answers OPTIONS with the same ISTag,
// the block page's text, that it offers RESPMOD as well, and that an encrypted file (content it
// cannot read) matches no rule (204).
import { bare, page, type VendorScript } from './simulator.js';

const ISTAG = '"WEBSENSE"';
const BLOCK_PAGE = `<html><head><title>Forcepoint DLP</title></head><body><h1>Transaction blocked</h1><p>Your transaction was blocked by Forcepoint DLP because it contains sensitive data (policy: PCI - Credit Cards).</p><p>${'If you believe this is a mistake, contact your security team. '.repeat(8)}</p></body></html>`;

export const forcepoint: VendorScript = {
  vendor: 'forcepoint',
  product: 'Forcepoint DLP (protector ICAP server)',
  finds: 'card',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [], previewBytes: 1024, maxConnections: 100 },
  answer(turn) {
    if (turn.scenario === 'error') return { send: bare(500, [['ISTag', ISTAG]]) };
    if (turn.scenario !== 'violation' || turn.monitorMode) return { send: bare(204, [['ISTag', ISTAG]]) };
    return { send: page(403, 'Forbidden', BLOCK_PAGE, [['ISTag', ISTAG]]) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: [], reason: /^Transaction blocked Your transaction was blocked by Forcepoint DLP because it contains sensitive data \(policy: PCI - Credit Cards\)/ } },
      RESPMOD: { block: { names: [], reason: /^Transaction blocked Your transaction was blocked by Forcepoint DLP/ } },
    },
    serverMonitor: { REQMOD: { pass: {} }, RESPMOD: { pass: {} } },
    encrypted: { pass: {} },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
