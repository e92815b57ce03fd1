// `dlp-proxy icap probe --test`: a clean body and a test violation through the service, read by
// the same classify() and vendor profile the proxy uses, so "connectivity OK" means the server
// answers, blocks what it should and passes what it should. The violation is EICAR for RESPMOD
// (anti-virus) and a test card number for REQMOD (DLP).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isProxyError } from '../core/errors.js';
import type { Direction, HttpHead } from '../core/types.js';
import { classify, type Vendor } from '../enforce/index.js';
import type { IcapService } from '../icap/index.js';

export type ProbeMethod = 'REQMOD' | 'RESPMOD';

export interface ProbeTestResult {
  /** e.g. "REQMOD violation" */
  label: string;
  /** the outcome is the one a working service gives */
  ok: boolean;
  /** what happened, in one line */
  line: string;
}

// EICAR in two parts, joined at run time, so no anti-virus flags this source or its build.
const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
/** A Luhn-valid Visa test number (no real account): what DLP card rules are made to find. */
const CARD = '4111 1111 1111 1111';
const CLEAN = `dlp-proxy icap probe: a clean test body, nothing confidential in it.\n`.repeat(40);

const BODIES: Record<ProbeMethod, { clean: [string, string]; violation: [string, string, string] }> = {
  REQMOD: { clean: ['probe-clean.txt', CLEAN], violation: ['probe-card.txt', `order notes\ncard number ${CARD}\n`, 'a test card number'] },
  RESPMOD: { clean: ['probe-clean.txt', CLEAN], violation: ['eicar.com', EICAR, 'the EICAR test file'] },
};

export async function runProbeTests(service: IcapService, methods: ProbeMethod[], vendor: Vendor, preview: number | undefined): Promise<ProbeTestResult[]> {
  const results: ProbeTestResult[] = [];
  for (const method of methods) {
    const { clean, violation } = BODIES[method];
    results.push(await probeOnce(service, method, vendor, preview, 'clean', clean[0], clean[1]));
    const r = await probeOnce(service, method, vendor, preview, 'violation', violation[0], violation[1]);
    results.push(r.passedUnnoticed ? { ...r, line: `${r.line}: NOT BLOCKED, this service let ${violation[2]} through` } : r);
  }
  return results;
}

async function probeOnce(
  service: IcapService,
  method: ProbeMethod,
  vendor: Vendor,
  preview: number | undefined,
  kind: 'clean' | 'violation',
  name: string,
  text: string,
): Promise<ProbeTestResult & { passedUnnoticed?: boolean }> {
  const label = `${method} ${kind}`;
  const body = Buffer.from(text, 'latin1');
  const heads = probeHeads(method, name, body.length);
  const direction: Direction = method === 'REQMOD' ? 'upload' : 'download';
  try {
    const result = await service.send({ method, ...heads, body: Readable.from([body]), bodyBytes: body.length, allow204: true, ...(preview === undefined ? {} : { preview }) });
    const { verdict, message } = await classify(result, {
      direction,
      vendor,
      original: { head: method === 'REQMOD' ? heads.reqHead : heads.resHead!, sha256: createHash('sha256').update(body).digest('hex'), sizeBytes: body.length },
      spool: { memoryBytes: 1024 * 1024, maxBytes: 16 * 1024 * 1024 },
    });
    await message?.body?.dispose();
    const named = verdict.violations.length > 0 ? ` (${verdict.violations.join(', ')})` : '';
    const seen = `ICAP ${result.status}, ${verdict.action}${named}`;
    const reason = verdict.reason ? `: ${verdict.reason}` : '';
    if (kind === 'clean') return { label, ok: verdict.action !== 'block', line: verdict.action === 'block' ? `${seen}${reason}: BLOCKED a clean body` : `${seen}${reason}` };
    if (verdict.action === 'pass' && verdict.violations.length > 0) return { label, ok: false, line: `${seen}: reported but let through (a monitor or trial mode)` };
    return { label, ok: verdict.action === 'block', line: `${seen}${reason}`, passedUnnoticed: verdict.action !== 'block' };
  } catch (err) {
    const code = isProxyError(err) ? err.code : 'ERROR';
    return { label, ok: false, line: `error ${code}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function probeHeads(method: ProbeMethod, name: string, size: number): { reqHead: HttpHead; resHead?: HttpHead } {
  const target = `http://icap-probe.invalid/${encodeURIComponent(name)}`;
  const entity: Array<[string, string]> = [['Content-Type', 'application/octet-stream'], ['Content-Length', String(size)]];
  if (method === 'REQMOD') return { reqHead: { kind: 'request', method: 'POST', target, version: '1.1', headers: [['Host', 'icap-probe.invalid'], ...entity] } };
  return {
    reqHead: { kind: 'request', method: 'GET', target, version: '1.1', headers: [['Host', 'icap-probe.invalid']] },
    resHead: { kind: 'response', status: 200, reason: 'OK', version: '1.1', headers: entity },
  };
}
