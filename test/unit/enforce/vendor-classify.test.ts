// Where a vendor's profile reads an answer differently from the generic reading, both readings side
// by side: each row is an answer as its vendor sends it (sources in src/enforce/vendor-profiles.ts
// and in the simulators of test/support/vendors/), and what the profile and `generic` make of it.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { spoolStats } from '../../../src/body/index.js';
import type { HttpHead, IcapResult } from '../../../src/core/types.js';
import { classify, type ClassifyContext, type Vendor } from '../../../src/enforce/index.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const body = Buffer.from('%PDF-1.7 quarterly report');
const original: HttpHead = { kind: 'response', status: 200, reason: 'OK', version: '1.1', headers: [['Content-Type', 'application/pdf'], ['Content-Length', String(body.length)]] };
const upload: HttpHead = { kind: 'request', method: 'POST', target: 'http://files.example/up', version: '1.1', headers: [['Host', 'files.example'], ['Content-Length', String(body.length)]] };
const page = (status: number, headers: Array<[string, string]> = []): HttpHead => ({ kind: 'response', status, reason: 'X', version: '1.1', headers: [['Content-Type', 'text/html'], ...headers] });

const ctx = (vendor: Vendor, direction: 'upload' | 'download' = 'download', head: HttpHead = direction === 'upload' ? upload : original): ClassifyContext => ({
  direction,
  vendor,
  original: { head, sha256: sha(body), sizeBytes: body.length },
  spool: { memoryBytes: 64 * 1024 },
});
const icap = (h: Record<string, string>) => new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const unmodified = (h: Record<string, string>): IcapResult => ({ kind: 'unmodified', istag: '"t"', headers: icap(h) });
const modified = (head: HttpHead, content: string | Buffer | null, h: Record<string, string> = {}): IcapResult => ({
  kind: 'modified',
  istag: '"t"',
  headers: icap(h),
  head,
  body: content === null ? null : Readable.from([Buffer.from(content)]),
});
/** The verdict; an adapted body a replace hands over is disposed here (the caller owns it). */
async function verdictOf(r: () => IcapResult, c: ClassifyContext) {
  const { verdict, message } = await classify(r(), c);
  await message?.body?.dispose();
  return verdict;
}

afterEach(() => expect(spoolStats().spools).toBe(0));

describe('OPSWAT MetaDefender: X-Response-Info states the action', () => {
  const allowedWithFinding = () => unmodified({ 'X-Response-Info': 'Allowed', 'X-Virus-ID': 'EICAR Test String', 'X-Infection-Found': 'Type=0; Resolution=0; Threat=EICAR Test String;' });

  it('Allowed on every clean answer is a plain pass', async () => {
    expect(await verdictOf(() => unmodified({ 'X-Response-Info': 'Allowed' }), ctx('metadefender'))).toEqual({ action: 'pass', violations: [], source: 'icap' });
  });

  it('Allowed with findings is a monitored violation (passed, named); generic blocks it', async () => {
    expect(await verdictOf(allowedWithFinding, ctx('metadefender'))).toMatchObject({ action: 'pass', violations: ['EICAR Test String'], source: 'icap' });
    expect(await verdictOf(allowedWithFinding, ctx('generic'))).toMatchObject({ action: 'block', violations: ['EICAR Test String'] });
  });

  it('Blocked with X-Blocked-Reason: block, the reason is X-Blocked-Reason', async () => {
    const v = await verdictOf(
      () => modified(page(403), '<h1>Blocked</h1>', { 'X-Response-Info': 'Blocked', 'X-Blocked-Reason': 'Infected', 'X-Response-Desc': 'Infected', 'X-Virus-ID': 'EICAR Test String' }),
      ctx('metadefender'),
    );
    expect(v).toEqual({ action: 'block', reason: 'Infected', violations: ['EICAR Test String'], source: 'icap' });
  });

  it('Blocked for its own failure ("Error received from Metadefender Core", no finding) is ICAP_SERVER_ERROR', async () => {
    const r = () => modified(page(403), '<h1>Blocked</h1>', { 'X-Response-Info': 'Blocked', 'X-Response-Desc': 'Error received from Metadefender Core' });
    await expect(classify(r(), ctx('metadefender'))).rejects.toMatchObject({ code: 'ICAP_SERVER_ERROR' });
    // generic cannot tell: a block, never a pass
    expect(await verdictOf(r, ctx('generic'))).toMatchObject({ action: 'block', reason: 'Error received from Metadefender Core' });
  });
});

describe('Kaspersky Scan Engine: a 204 is a rule\'s own pass', () => {
  it('204 naming a threat (a DETECT rule with NONE) is monitored; generic blocks it', async () => {
    const r = () => unmodified({ 'X-Infection-Found': 'Type=0; Resolution=0; Threat=EICAR-Test-File;' });
    expect(await verdictOf(r, ctx('kaspersky'))).toMatchObject({ action: 'pass', violations: ['EICAR-Test-File'] });
    expect(await verdictOf(r, ctx('generic'))).toMatchObject({ action: 'block' });
  });

  it('a template in place of a download, no header (the default): block, reason from the page', async () => {
    const v = await verdictOf(() => modified(page(200), '<html><body><h1>Access denied</h1><p>Threat detected: EICAR-Test-File</p></body></html>'), ctx('kaspersky'));
    expect(v).toEqual({ action: 'block', reason: 'Access denied Threat detected: EICAR-Test-File', violations: [], source: 'icap' });
  });
});

describe('Trellix / McAfee Web Gateway', () => {
  it('names the threat from X-Virus-Name in the encapsulated HTTP head (release 11)', async () => {
    const v = await verdictOf(() => modified(page(403, [['X-Virus-Name', 'EICAR test file']]), 'blocked', { 'X-Block-Reason': 'Malware found', 'X-WWBlockResult': '80' }), ctx('trellix'));
    expect(v).toEqual({ action: 'block', reason: 'Malware found', violations: ['Malware found', 'EICAR test file'], source: 'icap' });
  });

  it('X-Virus-Name in the ICAP head blocks for every vendor (generic reading)', async () => {
    const v = await verdictOf(() => modified(original, body, { 'X-Virus-Name': 'EICAR test file' }), ctx('generic'));
    expect(v).toMatchObject({ action: 'block', violations: ['EICAR test file'] });
  });
});

describe('Trend Micro: HTTP 500 inside a 200 is a scan error', () => {
  it('is SCAN_UNSCANNABLE (its own fail class) in RESPMOD and REQMOD', async () => {
    await expect(classify(modified(page(500), 'Too many files in the zip. (-69)'), ctx('trend-micro'))).rejects.toMatchObject({ code: 'SCAN_UNSCANNABLE' });
    await expect(classify(modified(page(500), 'scan error'), ctx('trend-micro', 'upload'))).rejects.toMatchObject({ code: 'SCAN_UNSCANNABLE' });
  });

  it('the origin\'s own 500, echoed, is the origin\'s: a pass', async () => {
    const origin500: HttpHead = { ...original, status: 500 };
    expect(await verdictOf(() => modified(origin500, body), ctx('trend-micro', 'download', origin500))).toMatchObject({ action: 'pass' });
  });

  it('generic reads the same 500 as a block', async () => {
    expect(await verdictOf(() => modified(page(500), 'scan error'), ctx('generic'))).toMatchObject({ action: 'block' });
  });
});

describe('ESET: X-Response-Description in UTF-8', () => {
  it('is the reason, decoded (header bytes arrive as latin1)', async () => {
    const gelöscht = Buffer.from('Gelöscht', 'utf8').toString('latin1');
    const v = await verdictOf(
      () => modified(page(403), null, { 'X-Infection-Found': 'Type=0; Resolution=0; Threat=Eicar;', 'X-Virus-ID': 'Testdatei', 'X-Response-Info': 'Blocked', 'X-Response-Description': gelöscht }),
      ctx('eset'),
    );
    expect(v).toEqual({ action: 'block', reason: 'Gelöscht', violations: ['Eicar', 'Testdatei'], source: 'icap' });
  });

  it('a value that is not UTF-8 is shown as received', async () => {
    const v = await verdictOf(() => unmodified({ 'X-Virus-ID': 'caf\u00e9' }), ctx('eset'));
    expect(v.violations).toEqual(['caf\u00e9']);
  });
});

describe('Symantec: an HTTP 200 page is a block in both directions', () => {
  it('REQMOD and RESPMOD', async () => {
    const notice = 'Your web posting was blocked because it violated the company\'s security policies.';
    expect(await verdictOf(() => modified(page(200), notice), ctx('symantec', 'upload'))).toMatchObject({ action: 'block', reason: notice });
    expect(await verdictOf(() => modified(page(200), notice), ctx('symantec'))).toMatchObject({ action: 'block', reason: notice });
    expect(await verdictOf(() => modified(page(200), notice), ctx('generic'))).toMatchObject({ action: 'replace' });
  });
});
