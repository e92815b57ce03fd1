// The ICAP client against real c-icap 0.5: srv_cfg_filter ("dlp": TOP-SECRET keyword and card-number
// rules) and virus_scan ("av": private clamd, offline test DB with EICAR and a marker), REQMOD and
// RESPMOD, with and without preview, 200 KB bodies with the match in the tail, clean bodies, and
// c-icap closing a kept-alive connection after MaxKeepAliveRequests.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpHead } from '../../src/core/types.js';
import { IcapService, type IcapSendResult } from '../../src/icap/index.js';
import { startCicap, type Cicap } from '../support/peers/cicap.js';
import { EICAR, EICAR_NAME, MARKER_NAME, VIRUS_MARKER } from '../support/peers/clamd.js';

let cicap: Cicap;
let dlp: IcapService;
let av: IcapService;

const service = (name: string, url: string) =>
  new IcapService({ name, servers: [{ url, weight: 1 }], maxConnections: 4, connectTimeoutMs: 2000, previewTimeoutMs: 5000, readIdleTimeoutMs: 5000, queueTimeoutMs: 5000, idleTimeoutMs: 5000 });

beforeAll(async () => {
  cicap = await startCicap({ services: ['dlp', 'av', 'echo'] });
  dlp = service('dlp', cicap.url('dlp'));
  av = service('av', cicap.url('av'));
});

afterAll(async () => {
  await dlp?.close();
  await av?.close();
  await cicap?.stop();
});

// srv_cfg_filter only inspects bodies whose encapsulated head declares Content-Length: without it
// c-icap answers 204 for anything (measured here), so every head below carries one.
function heads(size: number): { req: HttpHead; res: HttpHead } {
  const common: Array<[string, string]> = [['Content-Type', 'text/plain'], ['Content-Length', String(size)]];
  return {
    req: { kind: 'request', method: 'POST', target: 'http://upload.test/form', version: '1.1', headers: [['Host', 'upload.test'], ...common] },
    res: { kind: 'response', status: 200, reason: 'OK', version: '1.1', headers: common },
  };
}

function send(svc: IcapService, method: 'REQMOD' | 'RESPMOD', data: Buffer, preview: boolean): Promise<IcapSendResult> {
  const h = heads(data.length);
  return svc.send({
    method,
    reqHead: method === 'REQMOD' ? h.req : { ...h.req, method: 'GET', headers: [['Host', 'upload.test']] },
    ...(method === 'RESPMOD' ? { resHead: h.res } : {}),
    body: Readable.from([data.subarray(0, data.length >> 1), data.subarray(data.length >> 1)]),
    bodyBytes: data.length,
    allow204: true,
    ...(preview ? {} : { preview: false }),
    clientIp: '127.0.0.2',
  });
}

async function bodyText(result: IcapSendResult): Promise<string> {
  if (result.kind !== 'modified' || !result.body) return '';
  const parts: Buffer[] = [];
  for await (const c of result.body) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

/** 200 KB of clean text with `marker` in its last kilobyte. */
function bigWithTail(marker: string): Buffer {
  const line = 'The quarterly figures are attached, nothing special here.\n';
  const base = line.repeat(Math.ceil(200_000 / line.length)).slice(0, 200_000 - 600);
  return Buffer.from(base + marker + '\n' + 'end '.repeat(100));
}

const CASES = (['REQMOD', 'RESPMOD'] as const).flatMap((method) => [true, false].map((preview) => ({ method, preview })));

describe.each(CASES)('c-icap srv_cfg_filter as dlp: $method, preview $preview', ({ method, preview }) => {
  it('blocks a keyword with a 403 page and X-Response-Info: block', async () => {
    const result = await send(dlp, method, Buffer.from('memo: TOP-SECRET plans'), preview);
    expect(result.kind).toBe('modified');
    if (result.kind !== 'modified') return;
    expect(result.head).toMatchObject({ kind: 'response', status: 403, version: '1.0' });
    expect(result.headers.get('x-response-info')).toBe('block');
    expect(result.headers.get('x-attribute')).toBe('DLP=100');
    expect(await bodyText(result)).toContain('</html>');
    expect(result.previewUsed).toBe(preview);
  });

  it('blocks a card number', async () => {
    const result = await send(dlp, method, Buffer.from('pay with 4111 1111 1111 1111 today'), preview);
    expect(result.kind === 'modified' && result.headers.get('x-response-info')).toBe('block');
    await bodyText(result);
  });

  it('blocks a 200 KB body whose match is in the tail', async () => {
    const result = await send(dlp, method, bigWithTail('classified TOP-SECRET annex'), preview);
    expect(result.kind === 'modified' && result.head.status).toBe(403);
    await bodyText(result);
  });

  it('passes a clean 200 KB body (204, or 200 with the message unchanged)', async () => {
    const data = bigWithTail('nothing to see');
    const result = await send(dlp, method, data, preview);
    if (result.kind === 'modified') {
      expect(result.headers.has('x-response-info')).toBe(false);
      expect(result.head.status ?? 200).not.toBe(403);
      expect((await bodyText(result)).length).toBe(data.length);
    } else expect(result.status).toBe(204);
  });
});

describe.each(CASES)('c-icap virus_scan as av with clamd: $method, preview $preview', ({ method, preview }) => {
  it('blocks EICAR with X-Infection-Found and a folded X-Violations-Found', async () => {
    const result = await send(av, method, Buffer.from(EICAR), preview);
    expect(result.kind).toBe('modified');
    if (result.kind !== 'modified') return;
    expect(result.headers.get('x-infection-found')).toContain(`Threat=${EICAR_NAME};`);
    expect(result.headers.get('x-violations-found')).toBe(`1 - ${EICAR_NAME} 0 0`);
    const page = await bodyText(result);
    expect(page.endsWith('\0\0')).toBe(true);
    expect(result.head.status).toBe(403);
  });

  it('blocks the test marker in the tail of a 200 KB body', async () => {
    const result = await send(av, method, bigWithTail(VIRUS_MARKER), preview);
    expect(result.kind === 'modified' && result.headers.get('x-infection-found')).toContain(MARKER_NAME);
    await bodyText(result);
  });

  it('answers a clean 200 KB body with 204 Unmodified', async () => {
    const result = await send(av, method, bigWithTail('clean'), preview);
    expect(result).toMatchObject({ kind: 'unmodified', status: 204 });
    expect(result.istag).toMatch(/^"CI0001-/);
  });
});

describe('c-icap connection handling', () => {
  it('reads OPTIONS as c-icap sends them', async () => {
    const options = await av.options();
    expect(options).toMatchObject({ methods: ['RESPMOD', 'REQMOD'], preview: 1024, allow204: true, ttlMs: 3_600_000 });
    expect(options.transferFor('http://x.test/a.exe')).toBe('preview');
    expect(av.istag).toBe(options.istag);
  });

  it('survives Connection: close after MaxKeepAliveRequests (120 sequential transactions)', async () => {
    const echo = service('echo', cicap.url('virus_scan'));
    let closes = 0;
    try {
      for (let i = 0; i < 120; i++) {
        const result = await send(echo, 'REQMOD', Buffer.from(`clean ${i}`), true);
        expect(result.kind).toBe('unmodified');
        if (result.headers.get('connection') === 'close') closes++;
      }
    } finally {
      await echo.close();
    }
    expect(closes).toBeGreaterThanOrEqual(1);
  });

  it('header-only REQMOD (a GET) is answered', async () => {
    const h = heads(0);
    const result = await av.send({ method: 'REQMOD', reqHead: { ...h.req, method: 'GET', headers: [['Host', 'upload.test']] }, body: null, allow204: true });
    expect(result.status).toBe(204);
  });
});
