// The exchange as a playbook: events in, commands out, no sockets. Each way around the scan that
// issue 11 found is one script here, and each says what must never happen (no forward command).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Spool } from '../../../src/body/index.js';
import { ProxyError } from '../../../src/core/errors.js';
import type { ExchangeCommand } from '../../../src/pipeline/exchange-protocol.js';
import { header, held, machine, request, response } from './playbook.js';
import { verdictsDuring } from '../../support/verdicts-during.js';

const UPLOADS = { name: 'uploads', match: { direction: 'upload' as const }, scan: 'dlp' };
const DOWNLOADS = { name: 'downloads', match: { direction: 'download' as const }, scan: 'av' };
const WS_FROM_SERVER = { name: 'ws-from-server', match: { protocols: ['websocket' as const], direction: 'download' as const }, action: 'pass' as const };

const types = (commands: ExchangeCommand[]) => commands.map((c) => c.type);

describe('one decision for every way in', () => {
  it('a WebSocket upgrade to a blocked host gets the block page and no connect', () => {
    const { m } = machine([{ name: 'no-chat', match: { hosts: ['files.example.com'] }, action: 'block' }, UPLOADS]);
    const out = m.handle({ type: 'request', request: request('GET', [['Upgrade', 'websocket'], ['Connection', 'Upgrade']], { websocket: true }) });
    expect(out).toEqual([{ type: 'answer', answer: expect.objectContaining({ kind: 'block', rule: 'no-chat' }), close: false }]);
    expect(m.state).toBe('answered');
  });

  it('a WebSocket rule by protocol blocks upgrades and leaves plain requests alone', () => {
    const rules = [{ name: 'no-ws', match: { protocols: ['websocket' as const] }, action: 'block' as const }, UPLOADS];
    expect(types(machine(rules).m.handle({ type: 'request', request: request('GET', [], { websocket: true }) }))).toEqual(['answer']);
    expect(types(machine(rules).m.handle({ type: 'request', request: request('GET') }))).toEqual(['forward']);
  });

  it('a WebSocket under the default rules: client messages scanned by dlp, server messages passed', () => {
    const { m, exchange } = machine([WS_FROM_SERVER, UPLOADS, DOWNLOADS]);
    const [forward] = m.handle({ type: 'request', request: request('GET', [['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits, x-webkit-deflate-frame']], { websocket: true }) });
    expect(forward).toMatchObject({ type: 'forward', upgrade: true, body: { kind: 'none' } });
    const headers = (forward as Extract<ExchangeCommand, { type: 'forward' }>).headers;
    expect(header(headers, 'upgrade')).toBe('websocket');
    // an extension the relay could not decode is never offered to the origin
    expect(header(headers, 'sec-websocket-extensions')).toBe('permessage-deflate; client_max_window_bits');
    expect(m.handle({ type: 'response', response: response(101, [['Upgrade', 'websocket']]) })).toEqual([
      { type: 'relay-websocket', upload: expect.objectContaining({ action: 'scan', service: 'dlp', rule: 'uploads' }), download: expect.objectContaining({ action: 'pass', rule: 'ws-from-server' }) },
    ]);
    expect(exchange.decisions.map((d) => d.rule)).toEqual(['uploads', 'ws-from-server']);
  });

  it('an origin that does not switch protocols: its response is an ordinary download, scanned', () => {
    const { m } = machine([WS_FROM_SERVER, UPLOADS, DOWNLOADS]);
    m.handle({ type: 'request', request: request('GET', [['Upgrade', 'websocket'], ['Connection', 'Upgrade']], { websocket: true }) });
    const out = m.handle({ type: 'response', response: response(200, [['Content-Length', '68']]) });
    expect(out).toEqual([expect.objectContaining({ type: 'scan', side: 'download', decision: expect.objectContaining({ rule: 'downloads', service: 'av' }), declaredBytes: 68 })]);
  });

  it('a request that already passed through this proxy is refused as a loop', () => {
    const { m } = machine([UPLOADS]);
    const out = m.handle({ type: 'request', request: request('GET', [['Via', '1.1 squid, 1.1 DLP-Proxy']]) });
    expect(out).toEqual([{ type: 'answer', answer: { kind: 'error', error: expect.any(ProxyError) }, close: false }]);
    expect((out[0] as { answer: { error: ProxyError } }).answer.error.code).toBe('CLIENT_LOOP_DETECTED');
  });

  it('another proxy in Via is no loop', () => {
    const { m } = machine([UPLOADS]);
    expect(types(m.handle({ type: 'request', request: request('GET', [['Via', '1.1 dlp-proxy-eu (dlp)']]) }))).toEqual(['forward']);
  });
});

describe('bodies', () => {
  it('a blocked upload is answered before any connection, and the unread body closes the connection', () => {
    const { m } = machine([UPLOADS]);
    const [scan] = m.handle({ type: 'request', request: request('POST', [['Content-Length', '10']]) });
    expect(scan).toMatchObject({ type: 'scan', side: 'upload', body: { kind: 'stream' }, declaredBytes: 10 });
    const out = m.handle({ type: 'scanned', side: 'upload', outcome: { action: 'block', verdict: { action: 'block', violations: ['payment-card'], source: 'icap' } } });
    expect(out).toEqual([{ type: 'answer', answer: expect.objectContaining({ kind: 'block', direction: 'upload' }), close: true }]);
  });

  it('a chunked upload under a size rule is measured first, and past the cap takes the oversize action', () => {
    const { m } = machine([{ name: 'big', match: { direction: 'upload', minBytes: 500 }, action: 'block' }, UPLOADS]);
    expect(m.handle({ type: 'request', request: request('POST', [['Transfer-Encoding', 'chunked']]) })).toEqual([{ type: 'measure', side: 'upload' }]);
    const spool = { size: 1000 } as Spool;
    const seen = verdictsDuring(() => {
      const out = m.handle({ type: 'overflowed', side: 'upload', spool, overflow: { chunk: Buffer.alloc(10), rest: Readable.from([]) } });
      expect(out).toEqual([{ type: 'answer', answer: expect.objectContaining({ kind: 'block', verdict: expect.objectContaining({ violations: ['oversize'] }) }), close: true }]);
    });
    expect(seen.map((e) => [e.verdict.action, e.verdict.source, e.sizeBytes])).toEqual([['block', 'policy', 1010]]);
  });

  it('a measured upload is decided by its size, then scanned from the spool', () => {
    const { m } = machine([{ name: 'small', match: { direction: 'upload', maxBytes: 100 }, action: 'pass' }, UPLOADS]);
    m.handle({ type: 'request', request: request('POST', [['Transfer-Encoding', 'chunked']]) });
    const body = held(400);
    expect(m.handle({ type: 'measured', side: 'upload', body })).toEqual([expect.objectContaining({ type: 'scan', body: { kind: 'held', body }, declaredBytes: 400 })]);
  });

  it('oversizeAction: pass streams the whole body on unscanned, logged as unscanned', () => {
    const { m } = machine([UPLOADS], { oversizeAction: 'pass' });
    m.handle({ type: 'request', request: request('POST', [['Transfer-Encoding', 'chunked']]) });
    const spool = { size: 1000 } as Spool;
    const overflow = { chunk: Buffer.alloc(10), rest: Readable.from([]) };
    let out: ExchangeCommand[] = [];
    const seen = verdictsDuring(() => {
      out = m.handle({ type: 'scanned', side: 'upload', outcome: { action: 'oversize', spool, overflow } });
    });
    expect(out).toEqual([expect.objectContaining({ type: 'forward', body: { kind: 'overflow', spool, overflow } })]);
    expect(seen.map((e) => [e.verdict.action, e.verdict.source])).toEqual([['pass', 'unscanned']]);
  });

  it('a declared length past the cap is never spooled: oversize block at once', () => {
    const { m } = machine([UPLOADS]);
    const out = m.handle({ type: 'request', request: request('POST', [['Content-Length', '5000']]) });
    expect(out).toEqual([expect.objectContaining({ type: 'answer', close: true })]);
  });

  it('an event the state does not expect is our defect (INTERNAL), never a pass', () => {
    const { m } = machine([UPLOADS]);
    expect(() => m.handle({ type: 'response', response: response(200) })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('ranges of a scanned download', () => {
  const ranged = (range: string, extra: Array<[string, string]> = []) => request('GET', [['Range', range], ...extra]);

  it('Range and If-Range are stripped upstream, the whole is scanned, the range cut from the spool', () => {
    const { m } = machine([DOWNLOADS]);
    const [forward] = m.handle({ type: 'request', request: ranged('bytes=0-99', [['If-Range', '"v1"']]) });
    expect(forward).toMatchObject({ type: 'forward' });
    const headers = (forward as Extract<ExchangeCommand, { type: 'forward' }>).headers;
    expect(header(headers, 'range')).toBeUndefined();
    expect(header(headers, 'if-range')).toBeUndefined();
    expect(types(m.handle({ type: 'response', response: response(200, [['Content-Length', '300'], ['ETag', '"v1"']]) }))).toEqual(['scan']);
    const body = held(300);
    const [respond] = m.handle({ type: 'scanned', side: 'download', outcome: { action: 'pass', verdict: { action: 'pass', violations: [], source: 'icap' }, body } });
    expect(respond).toMatchObject({ type: 'respond', status: 206, body: { kind: 'range', body, plan: { ranges: [{ start: 0, end: 99 }] } } });
  });

  it('several ranges are coalesced and answered together; an unsatisfiable one gets 416', () => {
    const a = machine([DOWNLOADS]).m;
    a.handle({ type: 'request', request: ranged('bytes=200-, 0-9, 5-19') });
    a.handle({ type: 'response', response: response(200, [['Content-Length', '300']]) });
    expect(a.handle({ type: 'scanned', side: 'download', outcome: { action: 'pass', verdict: { action: 'pass', violations: [], source: 'icap' }, body: held(300) } })[0]).toMatchObject({
      status: 206,
      body: { plan: { ranges: [{ start: 0, end: 19 }, { start: 200, end: 299 }] } },
    });
    const b = machine([DOWNLOADS]).m;
    b.handle({ type: 'request', request: ranged('bytes=500-') });
    b.handle({ type: 'response', response: response(200, [['Content-Length', '300']]) });
    const [answer] = b.handle({ type: 'scanned', side: 'download', outcome: { action: 'pass', verdict: { action: 'pass', violations: [], source: 'icap' }, body: held(300) } });
    expect(answer).toMatchObject({ type: 'respond', status: 416, body: { kind: 'none' } });
    expect(header((answer as { headers: string[] }).headers, 'content-range')).toBe('bytes */300');
  });

  it('an If-Range that no longer matches gets the whole file (200)', () => {
    const { m } = machine([DOWNLOADS]);
    m.handle({ type: 'request', request: ranged('bytes=0-9', [['If-Range', '"old"']]) });
    m.handle({ type: 'response', response: response(200, [['Content-Length', '300'], ['ETag', '"new"']]) });
    const body = held(300);
    expect(m.handle({ type: 'scanned', side: 'download', outcome: { action: 'pass', verdict: { action: 'pass', violations: [], source: 'icap' }, body } })[0]).toMatchObject({
      status: 200,
      body: { kind: 'held', body },
    });
  });

  it('a download that may be scanned is offered only codings a scan can undo (zstd and compress go; nothing left: identity)', () => {
    const { m } = machine([DOWNLOADS]);
    const [forward] = m.handle({ type: 'request', request: request('GET', [['Accept-Encoding', 'gzip, deflate, br, zstd;q=1.0, compress']]) });
    expect(header((forward as { headers: string[] }).headers, 'accept-encoding')).toBe('gzip, deflate, br');
    const { m: only } = machine([DOWNLOADS]);
    const [alone] = only.handle({ type: 'request', request: request('GET', [['Accept-Encoding', 'zstd']]) });
    expect(header((alone as { headers: string[] }).headers, 'accept-encoding')).toBeUndefined();
    const { m: passed } = machine([{ name: 'cdn', match: { direction: 'download', hosts: ['files.example.com'] }, action: 'pass' }, DOWNLOADS]);
    const [asked] = passed.handle({ type: 'request', request: request('GET', [['Accept-Encoding', 'gzip, zstd']]) });
    expect(header((asked as { headers: string[] }).headers, 'accept-encoding')).toBe('gzip, zstd');
  });

  it('a range of a download no rule scans is forwarded as asked', () => {
    const { m } = machine([{ name: 'cdn', match: { direction: 'download', hosts: ['files.example.com'] }, action: 'pass' }, DOWNLOADS]);
    const [forward] = m.handle({ type: 'request', request: ranged('bytes=0-9') });
    expect(header((forward as { headers: string[] }).headers, 'range')).toBe('bytes=0-9');
  });

  it('an origin that sends a part we did not ask for is blocked (partial content cannot be scanned whole)', () => {
    const { m } = machine([DOWNLOADS]);
    m.handle({ type: 'request', request: request('GET') });
    const out = m.handle({ type: 'response', response: response(206, [['Content-Range', 'bytes 100-199/300'], ['Content-Length', '100']]) });
    expect(out).toEqual([{ type: 'answer', answer: expect.objectContaining({ kind: 'block', verdict: expect.objectContaining({ violations: ['partial-content'] }) }), close: false }]);
  });

  it('a Content-Range that covers the whole file is a whole file', () => {
    const { m } = machine([DOWNLOADS]);
    m.handle({ type: 'request', request: request('GET') });
    expect(types(m.handle({ type: 'response', response: response(206, [['Content-Range', 'bytes 0-299/300'], ['Content-Length', '300']]) }))).toEqual(['scan']);
  });
});
