// Delivery of scanned downloads as playbooks (policy[].delivery): which plan a download gets, and
// what may follow once the head went out under trickle — a pass lets the rest follow, anything
// else is a cut, never an answer or a respond. No sockets.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Spool } from '../../../src/body/index.js';
import { ProxyError } from '../../../src/core/errors.js';
import type { ExchangeCommand } from '../../../src/pipeline/exchange-protocol.js';
import { patienceRequest } from '../../../src/pipeline/patience.js';
import { header, held, machine, request, response } from './playbook.js';
import { verdictsDuring } from '../../support/verdicts-during.js';

const MiB = 1024 * 1024;
type Delivery = { mode?: 'hold' | 'trickle' | 'patience'; trickleHoldBytes?: number; trickleBytesPerSecond?: number; trickleMinBytes?: number; patienceFallback?: 'hold' | 'trickle' };
const downloads = (delivery?: Delivery) => ({ name: 'downloads', match: { direction: 'download' as const }, scan: 'av', ...(delivery ? { delivery } : {}) });
const NAVIGATE: Array<[string, string]> = [['Sec-Fetch-Mode', 'navigate'], ['Accept', 'text/html,application/xhtml+xml,*/*;q=0.8']];
const TOKEN = 'A'.repeat(43);

type Scan = Extract<ExchangeCommand, { type: 'scan' }>;

/** The machine after the response head of a download of `bytes` (undefined: chunked). */
function download(delivery: Delivery | undefined, bytes: number | undefined, reqHeaders: Array<[string, string]> = [], options: { httpVersion?: string; method?: string } = {}) {
  const { m, exchange } = machine([downloads(delivery)], { maxScanBytes: 100 * MiB });
  m.handle({ type: 'request', request: request(options.method ?? 'GET', reqHeaders, options.httpVersion ? { httpVersion: options.httpVersion } : {}) });
  const framing: Array<[string, string]> = bytes === undefined ? [['Transfer-Encoding', 'chunked']] : [['Content-Length', String(bytes)]];
  const out = m.handle({ type: 'response', response: response(200, [['Content-Type', 'application/zip'], ...framing]) });
  return { m, exchange, out };
}

const pass = (size: number) => ({ action: 'pass' as const, verdict: { action: 'pass' as const, violations: [], source: 'icap' as const }, body: held(size) });
const block = { action: 'block' as const, verdict: { action: 'block' as const, violations: ['Eicar-Test-Signature'], source: 'icap' as const } };

describe('which delivery a download gets', () => {
  it('a rule without delivery holds: the scan command carries no trickle', () => {
    const { out } = download(undefined, 5 * MiB);
    expect(out).toEqual([expect.objectContaining({ type: 'scan', side: 'download' })]);
    expect((out[0] as Scan).trickle).toBeUndefined();
  });

  it('trickle: the plan carries the rule settings and the head with the origin Content-Length', () => {
    const { out } = download({ mode: 'trickle', trickleHoldBytes: 2 * MiB, trickleBytesPerSecond: 12345, trickleMinBytes: 3 * MiB }, 5 * MiB);
    const plan = (out[0] as Scan).trickle!;
    expect(plan).toMatchObject({ holdBytes: 2 * MiB, bytesPerSecond: 12345, minBytes: 3 * MiB, status: 200 });
    expect(header(plan.headers, 'content-length')).toBe(String(5 * MiB));
    expect(header(plan.headers, 'transfer-encoding')).toBeUndefined();
    expect(header(plan.headers, 'via')).toBe('1.1 dlp-proxy');
  });

  it('trickle: the head goes out only after more than trickleHoldBytes arrived', () => {
    const { out } = download({ mode: 'trickle', trickleHoldBytes: 4 * MiB, trickleMinBytes: MiB }, 50 * MiB);
    expect((out[0] as Scan).trickle!.minBytes).toBe(4 * MiB + 1);
  });

  it('trickle: a body declared smaller than trickleMinBytes, or not above trickleHoldBytes, is held', () => {
    expect((download({ mode: 'trickle', trickleMinBytes: 2 * MiB }, 2 * MiB - 1).out[0] as Scan).trickle).toBeUndefined();
    expect((download({ mode: 'trickle', trickleMinBytes: 2 * MiB }, 2 * MiB).out[0] as Scan).trickle).toBeDefined();
    expect((download({ mode: 'trickle', trickleHoldBytes: 3 * MiB, trickleMinBytes: MiB }, 3 * MiB).out[0] as Scan).trickle).toBeUndefined();
  });

  it('trickle: an unknown length goes chunked to an HTTP/1.1 client and is held for HTTP/1.0 (a cut would look like the end)', () => {
    const plan = (download({ mode: 'trickle' }, undefined).out[0] as Scan).trickle!;
    expect(header(plan.headers, 'content-length')).toBeUndefined();
    expect(header(plan.headers, 'transfer-encoding')).toBeUndefined(); // node frames it chunked itself
    expect((download({ mode: 'trickle' }, undefined, [], { httpVersion: '1.0' }).out[0] as Scan).trickle).toBeUndefined();
  });

  it('trickle: a Range the proxy stripped is answered from the scanned whole, so it is held', () => {
    const { out } = download({ mode: 'trickle' }, 5 * MiB, [['Range', 'bytes=0-99']]);
    expect((out[0] as Scan).trickle).toBeUndefined();
  });

  it('patience: a browser navigation gets the page, a JSON client the 202 document', () => {
    const nav = download({ mode: 'patience' }, 5 * MiB, NAVIGATE);
    expect(nav.out).toEqual([expect.objectContaining({ type: 'patience', answer: 'html', declaredBytes: 5 * MiB, head: expect.objectContaining({ status: 200 }) })]);
    expect(nav.m.state).toBe('starting-patience');
    expect(download({ mode: 'patience' }, 5 * MiB, [['Accept', 'text/html']]).out[0]).toMatchObject({ type: 'patience', answer: 'html' });
    expect(download({ mode: 'patience' }, 5 * MiB, [['Accept', 'application/json']]).out[0]).toMatchObject({ type: 'patience', answer: 'json' });
  });

  it('patience: curl gets patienceFallback (hold by default, trickle when set)', () => {
    const held = download({ mode: 'patience' }, 5 * MiB, [['Accept', '*/*']]).out[0] as Scan;
    expect(held).toMatchObject({ type: 'scan' });
    expect(held.trickle).toBeUndefined();
    const trickled = download({ mode: 'patience', patienceFallback: 'trickle' }, 5 * MiB, [['Accept', '*/*']]).out[0] as Scan;
    expect(trickled.trickle).toBeDefined();
  });

  it('patience: never for an unknown length (most likely a page), a small body, or anything but GET', () => {
    for (const { out } of [
      download({ mode: 'patience' }, undefined, NAVIGATE),
      download({ mode: 'patience', trickleMinBytes: 6 * MiB }, 5 * MiB, NAVIGATE),
      download({ mode: 'patience' }, 5 * MiB, NAVIGATE, { method: 'POST' }),
    ]) {
      expect(out[0]!.type).toBe('scan');
    }
  });

  it('patience: a Sec-Fetch-Mode other than navigate is no navigation whatever its Accept', () => {
    expect(download({ mode: 'patience' }, 5 * MiB, [['Sec-Fetch-Mode', 'cors'], ['Accept', 'text/html']]).out[0]!.type).toBe('scan');
  });
});

describe('patience states', () => {
  it('answered: the machine is patient and issues nothing more', () => {
    const { m } = download({ mode: 'patience' }, 5 * MiB, NAVIGATE);
    expect(m.handle({ type: 'patience-answered' })).toEqual([]);
    expect(m.state).toBe('patient');
    expect(() => m.handle({ type: 'scanned', side: 'download', outcome: pass(5 * MiB) })).toThrow(ProxyError);
  });

  it('refused (no room under maxHeldBytes): the fallback scan', () => {
    const { m } = download({ mode: 'patience', patienceFallback: 'trickle' }, 5 * MiB, NAVIGATE);
    const out = m.handle({ type: 'patience-refused' });
    expect(out).toEqual([expect.objectContaining({ type: 'scan', side: 'download', trickle: expect.objectContaining({ status: 200 }) })]);
    expect(m.state).toBe('scanning-download');
  });

  it('a request carrying the reserved parameter is answered by the proxy, whatever its token, and never forwarded', () => {
    for (const target of [`/f?dlp-proxy-patience=file.${TOKEN}`, `/f?a=1&dlp-proxy-patience=status.${TOKEN}`, '/f?dlp-proxy-patience=../../etc', '/f?x&dlp-proxy-patience']) {
      const { m } = machine([downloads({ mode: 'patience' })]);
      const out = m.handle({ type: 'request', request: request('GET', [], { target }) });
      expect(out).toEqual([{ type: 'patience-fetch', request: patienceRequest(target) }]);
      expect(m.state).toBe('answered');
    }
    expect(patienceRequest(`/f?dlp-proxy-patience=file.${TOKEN}`)).toEqual({ op: 'file', token: TOKEN });
    expect(patienceRequest(`/f?dlp-proxy-patience=status.${TOKEN}&x=1`)).toEqual({ op: 'status', token: TOKEN });
    expect(patienceRequest('/f?dlp-proxy-patience=file.short')).toEqual({ op: 'invalid' });
    expect(patienceRequest('/f/dlp-proxy-patience')).toBeUndefined();
  });

  it('a link may name the cluster worker holding the file; anything else after the token is no link', () => {
    expect(patienceRequest(`/f?dlp-proxy-patience=file.${TOKEN}.2`)).toEqual({ op: 'file', token: TOKEN, holder: 2 });
    expect(patienceRequest(`/f?dlp-proxy-patience=status.${TOKEN}.17`)).toEqual({ op: 'status', token: TOKEN, holder: 17 });
    for (const bad of ['.0', '.02', '.-1', '.1.2', '.x', '.', '.1234567890']) expect(patienceRequest(`/f?dlp-proxy-patience=file.${TOKEN}${bad}`)).toEqual({ op: 'invalid' });
  });

  it('a patience link is decided like any request: logged with its decision, refused by a block rule', () => {
    const open = machine([downloads({ mode: 'patience' })]);
    open.m.handle({ type: 'request', request: request('GET', [], { target: `/f?dlp-proxy-patience=status.${TOKEN}` }) });
    expect(open.exchange.decisions).toEqual([expect.objectContaining({ action: 'pass' })]);
    const { m } = machine([{ name: 'no-files', match: { hosts: ['files.example.com'] }, action: 'block' }, downloads({ mode: 'patience' })]);
    const out = m.handle({ type: 'request', request: request('GET', [], { target: `/f?dlp-proxy-patience=file.${TOKEN}` }) });
    expect(out).toEqual([{ type: 'answer', answer: expect.objectContaining({ kind: 'block', rule: 'no-files' }), close: false }]);
  });
});

describe('after the head went out (trickle)', () => {
  const trickled = () => download({ mode: 'trickle' }, 5 * MiB);

  it('a pass lets the rest follow from the held body', () => {
    const { m } = trickled();
    const outcome = pass(5 * MiB);
    expect(m.handle({ type: 'scanned', side: 'download', outcome, trickled: true })).toEqual([{ type: 'finish-trickle', body: { kind: 'held', body: outcome.body } }]);
    expect(m.state).toBe('responded');
  });

  it('a block is a cut: no answer, no respond', () => {
    const { m } = trickled();
    const out = m.handle({ type: 'scanned', side: 'download', outcome: block, trickled: true });
    expect(out).toEqual([{ type: 'cut', answer: expect.objectContaining({ kind: 'block', rule: 'downloads' }) }]);
    expect(m.state).toBe('cut');
  });

  it('a replacement is a cut', () => {
    const { m } = trickled();
    const outcome = { action: 'replace' as const, verdict: { action: 'replace' as const, violations: [], source: 'icap' as const }, body: held(5), message: { head: { kind: 'response' as const, status: 200, version: '1.1', headers: [] }, body: null } };
    expect(m.handle({ type: 'scanned', side: 'download', outcome, trickled: true }).map((c) => c.type)).toEqual(['cut']);
  });

  it('a failed scan (fail closed) is a cut that carries the error', () => {
    const { m } = trickled();
    const error = new ProxyError('ICAP_CONNECT_FAILED', 'down');
    const out = m.handle({ type: 'scanned', side: 'download', outcome: { action: 'unavailable', verdict: { action: 'block', violations: [], source: 'fail-closed' }, error }, trickled: true });
    expect(out).toEqual([{ type: 'cut', answer: { kind: 'unavailable', error } }]);
  });

  it('oversize: block cuts (and logs the oversize verdict), pass sends the rest on', () => {
    const spool = {} as Spool;
    const overflow = { chunk: Buffer.alloc(1), rest: Readable.from([]) };
    const blocked = trickled();
    const seen = verdictsDuring(() => {
      expect(blocked.m.handle({ type: 'scanned', side: 'download', outcome: { action: 'oversize', spool, overflow }, trickled: true }).map((c) => c.type)).toEqual(['cut']);
    });
    expect(seen.map((e) => e.verdict.violations)).toEqual([['oversize']]);
    const { m } = machine([downloads({ mode: 'trickle' })], { maxScanBytes: 100 * MiB, oversizeAction: 'pass' });
    m.handle({ type: 'request', request: request('GET') });
    m.handle({ type: 'response', response: response(200, [['Content-Length', String(5 * MiB)]]) });
    expect(m.handle({ type: 'scanned', side: 'download', outcome: { action: 'oversize', spool, overflow }, trickled: true })).toEqual([{ type: 'finish-trickle', body: { kind: 'overflow', spool, overflow } }]);
  });

  it('a verdict before the head went out is answered as with hold (the block page)', () => {
    const { m } = trickled();
    expect(m.handle({ type: 'scanned', side: 'download', outcome: block, trickled: false })).toEqual([{ type: 'answer', answer: expect.objectContaining({ kind: 'block' }), close: false }]);
  });
});
