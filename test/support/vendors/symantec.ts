// Symantec / Broadcom DLP Network Prevent for Web, as Broadcom's knowledge base says it answers:
//   https://knowledge.broadcom.com/external/article/184285/content-of-icap-response-sent-by-network.html
//     (a block is ICAP/1.0 200 with an HTTP/1.1 200 OK inside, carrying the Block rule's rejection
//     message, by default "Your web posting was blocked because it violated the company's security
//     policies."; 204 when nothing is modified)
//   https://knowledge.broadcom.com/external/article/389913/network-prevent-for-web-icap-response-be.html
//     (the "Block HTTP/S" rule replaces the HTTP body with the configured message, "Content blocked
//     due to policy violation"; processing errors are ICAP 4xx/5xx, e.g. 500)
// Redaction ("Remove HTTP/HTTPS content" rule) returns the request with the matching content
// removed. Trial mode creates incidents without blocking: the proxy is told nothing (204).
// Assumed (not in the pages found): the OPTIONS Service text and ISTag, that an encrypted file
// (content it cannot read) matches no rule and is answered 204, and the redacted body's form.
import { CARD } from '../enforcement-suite.js';
import { answers } from '../fake-icap-server.js';
import { bare, page, type VendorScript } from './simulator.js';

const ISTAG = '"DLP-16.0.1"';
const REQMOD_NOTICE = "Your web posting was blocked because it violated the company's security policies.";
const RESPMOD_NOTICE = 'Content blocked due to policy violation';

export const symantec: VendorScript = {
  vendor: 'symantec',
  product: 'Symantec/Broadcom DLP Network Prevent for Web',
  finds: 'card',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['Service', 'Symantec Data Loss Prevention - Network Prevent for Web']], previewBytes: 4096, maxConnections: 64 },
  answer(turn) {
    const istag: [string, string] = ['ISTag', ISTAG];
    if (turn.scenario === 'error') return { send: bare(500, [istag]) };
    if (turn.scenario !== 'violation' || turn.monitorMode) return { send: bare(204, [istag]) };
    if (turn.redact && turn.method === 'REQMOD') {
      const redacted = Buffer.from(turn.body.toString('utf8').replace(CARD, ''));
      const head = { ...turn.reqHead, headers: turn.reqHead.headers.map(([n, v]): [string, string] => (/^content-length$/i.test(n) ? [n, String(redacted.length)] : [n, v])) };
      return { send: answers.modified(head, redacted, [istag]) };
    }
    return { send: page(200, 'OK', turn.method === 'REQMOD' ? REQMOD_NOTICE : RESPMOD_NOTICE, [istag], [['Cache-Control', 'no-cache']]) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: [], reason: REQMOD_NOTICE } },
      RESPMOD: { block: { names: [], reason: RESPMOD_NOTICE } },
    },
    serverMonitor: { REQMOD: { pass: {} }, RESPMOD: { pass: {} } },
    encrypted: { pass: {} },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
