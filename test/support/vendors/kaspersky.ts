// Kaspersky Scan Engine in ICAP mode (kavicapd), as Kaspersky's help says it answers:
//   https://support.kaspersky.com/scanengine/179893 (service rules: mode REQ|RESP|ANY, result
//     NON_SCANNED|FAILED|PHISHING|DETECT|MACRO|CLEAN, action SET_RESP=<template> | EXEC_CMD | NONE,
//     "NONE: Kaspersky Scan Engine does not modify the scanned object")
//   https://support.kaspersky.com/ScanEngine/2.1/en-US/179895.htm (templates detect_req and
//     detect_res returned in place of blocked content)
//   https://support.kaspersky.com/scanengine/221159 (X-Infection-Found "Type=0; Resolution=0;
//     Threat={Threat_type};", only when SendInfectionFoundICAPHeader is 1, default 0; the virus name
//     header is configurable, VirusNameICAPHeader, e.g. X-Virus-ID)
//   owncloud/files_antivirus ICAPResponseAnalyser.php (older Kaspersky: "403 Forbidden" in res-hdr)
// Played here with SendInfectionFoundICAPHeader=1 and VirusNameICAPHeader=X-Virus-ID (what
// docs/vendors.md recommends, so the proxy can name the threat), a DETECT rule with SET_RESP for
// blocking services and NONE for the monitor service, and no NON_SCANNED rule (the default: an
// encrypted archive passes unmodified).
// Assumed: the OPTIONS Service text and ISTag, the template's text, 500 for an internal error.
import { bare, page, type VendorScript } from './simulator.js';

const ISTAG = '"KSE-2.1.0.1056-20240628"';
const THREAT = 'EICAR-Test-File';
const TEMPLATE = `<html><head><title>Blocked</title></head><body><h1>Access denied</h1><p>Kaspersky Scan Engine detected ${THREAT} and blocked the object.</p></body></html>`;

export const kaspersky: VendorScript = {
  vendor: 'kaspersky',
  product: 'Kaspersky Scan Engine (kavicapd)',
  finds: 'eicar',
  methods: ['REQMOD', 'RESPMOD'],
  options: { istag: ISTAG, headers: [['Service', 'Kaspersky Scan Engine ICAP Service'], ['X-Include', 'X-Client-IP, X-Client-Username']], previewBytes: 1024, maxConnections: 200 },
  answer(turn) {
    const istag: [string, string] = ['ISTag', ISTAG];
    if (turn.scenario === 'error') return { send: bare(500, [istag]) };
    if (turn.scenario !== 'violation') return { send: bare(204, [istag]) };
    const named: Array<[string, string]> = [istag, ['X-Infection-Found', `Type=0; Resolution=0; Threat=${THREAT};`], ['X-Virus-ID', THREAT]];
    if (turn.monitorMode) return { send: bare(204, named) };
    return { send: page(403, 'Forbidden', TEMPLATE, named) };
  },
  expect: {
    violation: {
      REQMOD: { block: { names: [THREAT], reason: `Access denied Kaspersky Scan Engine detected ${THREAT} and blocked the object.` } },
      RESPMOD: { block: { names: [THREAT], reason: `Access denied Kaspersky Scan Engine detected ${THREAT} and blocked the object.` } },
    },
    serverMonitor: { REQMOD: { pass: { names: [THREAT] } }, RESPMOD: { pass: { names: [THREAT] } } },
    encrypted: { pass: {} },
    error: { unavailable: 'ICAP_SERVER_ERROR', failClass: 'serverError' },
  },
};
