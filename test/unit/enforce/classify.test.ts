// Classification tables built from what real servers send (PEERS.md for c-icap 0.5.10; Broadcom
// KB 184285 and the Symantec community thread for DLP Network Prevent for Web).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { spoolStats } from '../../../src/body/index.js';
import type { HttpHead, IcapHeaders, IcapResult } from '../../../src/core/types.js';
import { classify, type ClassifyContext } from '../../../src/enforce/index.js';
import { sameHead } from '../../../src/enforce/same-message.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const icapHeaders = (extra: Record<string, string> = {}): IcapHeaders =>
  new Map(Object.entries({ istag: '"CI0001-XXXXXXXXX"', server: 'C-ICAP/0.5.10', ...extra }));

const uploadBody = Buffer.from('name=alice&note=quarterly figures');
const uploadHead: HttpHead = {
  kind: 'request',
  method: 'POST',
  target: 'https://files.example.com/api/upload',
  version: 'HTTP/1.1',
  headers: [
    ['Host', 'files.example.com'],
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ['Content-Length', String(uploadBody.length)],
    ['User-Agent', 'curl/8.5.0'],
  ],
};
const downloadBody = Buffer.from('%PDF-1.7 quarterly report');
const downloadHead: HttpHead = {
  kind: 'response',
  status: 200,
  reason: 'OK',
  version: 'HTTP/1.1',
  headers: [
    ['Content-Type', 'application/pdf'],
    ['Content-Length', String(downloadBody.length)],
    ['ETag', '"abc"'],
  ],
};
const notFoundBody = Buffer.from('<h1>Not found</h1>');
const notFoundHead: HttpHead = { kind: 'response', status: 404, reason: 'Not Found', version: 'HTTP/1.1', headers: [['Content-Type', 'text/html'], ['Content-Length', String(notFoundBody.length)]] };

const cicapVirusPage = Buffer.from('<html><head><title>VIRUS FOUND</title></head><body><h1>VIRUS FOUND</h1>You try to download Eicar-Test-Signature.UNOFFICIAL</body></html>\0\0');
const cicapBlockHead: HttpHead = { kind: 'response', status: 403, reason: 'Forbidden', version: 'HTTP/1.0', headers: [['Server', 'C-ICAP'], ['Connection', 'close'], ['Content-Type', 'text/html']] };
const symantecPage = Buffer.from('Content blocked due to policy violation');
const symantecHead: HttpHead = {
  kind: 'response',
  status: 200,
  reason: 'OK',
  version: 'HTTP/1.1',
  headers: [['Cache-Control', 'no-cache'], ['Date', 'Wed, 07 Sep 2016 13:41:16 GMT'], ['Content-Type', 'text/html; charset=UTF-8'], ['Content-Length', '39']],
};

type Side = 'upload' | 'download';
/** Each original body by its hash, to run the table again with the original held in RAM. */
const originals = new Map<string, Buffer>();
function context(direction: Side, vendor: ClassifyContext['vendor'] = 'generic', original?: { head: HttpHead; body: Buffer }): ClassifyContext {
  const o = original ?? (direction === 'upload' ? { head: uploadHead, body: uploadBody } : { head: downloadHead, body: downloadBody });
  originals.set(sha(o.body), o.body);
  return { direction, vendor, original: { head: o.head, sha256: sha(o.body), sizeBytes: o.body.length }, spool: { memoryBytes: 64 * 1024 } };
}
const modified = (head: HttpHead, body: Buffer | null, headers: Record<string, string> = {}): IcapResult => ({
  kind: 'modified',
  istag: '"CI0001-XXXXXXXXX"',
  headers: icapHeaders(headers),
  head,
  body: body === null ? null : Readable.from([body]),
});
/** A 200 the ICAP reader recognised as the body sent, byte for byte. */
const echoed = (head: HttpHead): IcapResult => ({ kind: 'modified', istag: '"CI0001-XXXXXXXXX"', headers: icapHeaders(), head, body: null, echo: true });
const withVia = (head: HttpHead): HttpHead => ({ ...head, headers: [...head.headers, ['Via', 'ICAP/1.0 c-icap (C-ICAP/0.5.10 Content filtering)']] });

afterEach(() => {
  expect(spoolStats().spools).toBe(0); // no adapted body left held
});

describe('classify', () => {
  const table: Array<[string, () => IcapResult, ClassifyContext, { action: string; violations?: string[]; reason?: string | RegExp }]> = [
    ['c-icap virus_scan clean: 204', () => ({ kind: 'unmodified', istag: '"CI0001-1"', headers: icapHeaders() }), context('download', 'c-icap'), { action: 'pass' }],
    [
      'c-icap virus_scan EICAR: 200 + HTTP 403 page + X-Infection-Found + folded X-Violations-Found',
      () =>
        modified(cicapBlockHead, cicapVirusPage, {
          'x-infection-found': 'Type=0; Resolution=2; Threat=Eicar-Test-Signature.UNOFFICIAL;',
          'x-violations-found': '1 - Eicar-Test-Signature.UNOFFICIAL 0 0',
        }),
      context('download', 'c-icap'),
      { action: 'block', violations: ['Eicar-Test-Signature.UNOFFICIAL'], reason: 'threat reported by the scanning service' },
    ],
    [
      'c-icap virus_scan truncating an infected stream (no page, 200 head kept) is still a block',
      () => modified(downloadHead, downloadBody.subarray(0, 5), { 'x-infection-found': 'Type=0; Resolution=2; Threat=Win.Test.EICAR_HDB-1;' }),
      context('download', 'c-icap'),
      { action: 'block', violations: ['Win.Test.EICAR_HDB-1'] },
    ],
    [
      'c-icap srv_cfg_filter DLP block in REQMOD: X-Response-Info: block, X-Attribute, X-Response-Desc',
      () => modified(cicapBlockHead, Buffer.from('<html>blocked</html>'), { 'x-response-info': 'block', 'x-response-desc': 'The content is blocked by DLP policy', 'x-attribute': 'DLP=100' }),
      context('upload', 'c-icap'),
      { action: 'block', violations: ['DLP'], reason: 'The content is blocked by DLP policy' },
    ],
    ['c-icap srv_cfg_filter clean upload: same request plus Via', () => modified(withVia(uploadHead), uploadBody), context('upload', 'c-icap'), { action: 'pass' }],
    ['c-icap srv_cfg_filter clean download: same response plus Via', () => modified(withVia(downloadHead), downloadBody), context('download', 'c-icap'), { action: 'pass' }],
    [
      'an unchanged origin 404 is a pass, not a block',
      () => modified(withVia(notFoundHead), notFoundBody),
      context('download', 'c-icap', { head: notFoundHead, body: notFoundBody }),
      { action: 'pass' },
    ],
    [
      'unchanged despite reordered fields, re-framing (chunked instead of Content-Length) and a Connection header',
      () =>
        modified(
          { ...downloadHead, headers: [['ETag', '"abc"'], ['Transfer-Encoding', 'chunked'], ['Connection', 'keep-alive, X-Hop'], ['X-Hop', '1'], ['Content-Type', 'application/pdf']] },
          downloadBody,
        ),
      context('download'),
      { action: 'pass' },
    ],
    ['body changed → replace', () => modified(withVia(downloadHead), Buffer.from('%PDF-1.7 sanitised')), context('download'), { action: 'replace' }],
    ['end-to-end header added → replace', () => modified({ ...downloadHead, headers: [...downloadHead.headers, ['X-Scanned', 'yes']] }, downloadBody), context('download'), { action: 'replace' }],
    ['same-name field order changed → replace', () => modified({ ...downloadHead, headers: [...downloadHead.headers, ['Vary', 'a'], ['Vary', 'b']] }, downloadBody), context('download', 'generic', { head: { ...downloadHead, headers: [...downloadHead.headers, ['Vary', 'b'], ['Vary', 'a']] }, body: downloadBody }), { action: 'replace' }],
    ['request target rewritten → replace', () => modified({ ...uploadHead, target: 'https://files.example.com/other' }, uploadBody), context('upload'), { action: 'replace' }],
    ['REQMOD redaction (Symantec "remove content"): a request with a new body → replace', () => modified(uploadHead, Buffer.from('name=alice&note=')), context('upload', 'symantec'), { action: 'replace' }],
    ['a body removed (null-body) → replace', () => modified(downloadHead, null), context('download'), { action: 'replace' }],
    ['no body on both sides, same head → pass', () => modified(uploadHead, null), context('upload', 'generic', { head: uploadHead, body: Buffer.alloc(0) }), { action: 'pass' }],
    [
      'RESPMOD replaced with a 403 page and no header → block',
      () => modified(cicapBlockHead, Buffer.from('<p>denied</p>')),
      context('download'),
      { action: 'block', violations: [], reason: 'the scanning service replaced the response with HTTP 403' },
    ],
    [
      'Symantec REQMOD block: HTTP 200 page, no violation header; the reason is the page text',
      () => modified(symantecHead, symantecPage),
      context('upload', 'symantec'),
      { action: 'block', violations: [], reason: 'Content blocked due to policy violation' },
    ],
    [
      'generic REQMOD answered with an HTTP response is a block whatever its status',
      () => modified({ ...symantecHead, status: 302, headers: [['Location', 'https://dlp.example/notice']] }, null),
      context('upload'),
      { action: 'block', reason: 'the scanning service refused the request (HTTP 302)' },
    ],
    [
      'Symantec RESPMOD: the body swapped for its notice under the same 200 → block',
      () => modified({ ...downloadHead, headers: [['Content-Type', 'text/html'], ['Content-Length', '39']] }, symantecPage),
      context('download', 'symantec'),
      { action: 'block', reason: 'Content blocked due to policy violation' },
    ],
    ['the same swap from a generic server is a replace', () => modified({ ...downloadHead, headers: [['Content-Type', 'text/html']] }, symantecPage), context('download'), { action: 'replace' }],
    [
      'X-Virus-ID (quoted) → block',
      () => modified(downloadHead, Buffer.from('x'), { 'x-virus-id': '"EICAR test file"' }),
      context('download'),
      { action: 'block', violations: ['EICAR test file'] },
    ],
    [
      'X-Blocked-Reason is the reason and, alone, the violation',
      () => modified(cicapBlockHead, null, { 'x-blocked-reason': 'Credit card numbers' }),
      context('download'),
      { action: 'block', violations: ['Credit card numbers'], reason: 'Credit card numbers' },
    ],
    ['X-Response-Info: Blocked → block', () => modified(downloadHead, downloadBody, { 'x-response-info': 'Blocked' }), context('download'), { action: 'block' }],
    ['X-Response-Info: Allowed on an echo → pass', () => modified(downloadHead, downloadBody, { 'x-response-info': 'Allowed' }), context('download'), { action: 'pass' }],
    ['a 204 that names a virus is still a block', () => ({ kind: 'unmodified', istag: '"x"', headers: icapHeaders({ 'x-virus-id': 'Eicar' }) }), context('download'), { action: 'block', violations: ['Eicar'] }],
  ];

  // The original as the pipeline has it: hashed only (on disk), or held in RAM in pieces: the ICAP
  // reader then reports a body that repeats it byte for byte as an echo, with no body (and no spool
  // of its own, held or leaked).
  const inRam = (ctx: ClassifyContext): ClassifyContext => {
    const body = originals.get(ctx.original.sha256)!;
    return { ...ctx, original: { ...ctx.original, ram: [body.subarray(0, 5), body.subarray(5)] } };
  };
  const asReaderWould = async (result: IcapResult, ctx: ClassifyContext): Promise<IcapResult> => {
    if (result.kind !== 'modified' || result.body === null || !ctx.original.ram) return result;
    const parts: Buffer[] = [];
    for await (const chunk of result.body) parts.push(chunk as Buffer);
    const body = Buffer.concat(parts);
    return body.equals(Buffer.concat(ctx.original.ram)) ? { ...result, body: null, echo: true } : { ...result, body: Readable.from([body]) };
  };
  it.each(table.flatMap(([name, result, ctx, expected]) => [[`${name} (original hashed)`, result, ctx, expected] as const, [`${name} (original in RAM)`, result, inRam(ctx), expected] as const]))('%s', async (_name, result, ctx, expected) => {
    const { verdict, message } = await classify(await asReaderWould(result(), ctx), ctx);
    expect(verdict.source).toBe('icap');
    expect(verdict.action).toBe(expected.action);
    if (expected.violations) expect(verdict.violations).toEqual(expected.violations);
    if (expected.reason) expect(verdict.reason).toEqual(expected.reason);
    if (verdict.action === 'replace') expect(message).toBeDefined();
    else expect(message).toBeUndefined();
    await message?.body?.dispose();
  });

  it('a replace hands over the adapted head and body to forward', async () => {
    const { verdict, message } = await classify(modified(withVia(downloadHead), Buffer.from('sanitised')), context('download'));
    expect(verdict.action).toBe('replace');
    expect(message!.head.headers).toContainEqual(['Via', 'ICAP/1.0 c-icap (C-ICAP/0.5.10 Content filtering)']);
    const chunks: Buffer[] = [];
    for await (const c of message!.body!.replay()) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('sanitised');
    await message!.body!.dispose();
  });

  it('an echo under the same head holds no spool; under another head it is forwarded with the original bytes', async () => {
    const ctx = inRam(context('download', 'c-icap'));
    const spools = spoolStats().spools;
    const echo = await classify(echoed(withVia(downloadHead)), ctx);
    expect(echo).toEqual({ verdict: { action: 'pass', violations: [], source: 'icap' } });
    expect(spoolStats().spools).toBe(spools);
    const retitled: HttpHead = { ...downloadHead, headers: [...downloadHead.headers.filter(([n]) => n !== 'ETag'), ['ETag', '"sanitised"']] };
    const { verdict, message } = await classify(echoed(retitled), ctx);
    expect(verdict.action).toBe('replace');
    expect(message!.head).toBe(retitled);
    expect(message!.body!.sha256).toBe(sha(downloadBody));
    expect(message!.body!.sizeBytes).toBe(downloadBody.length);
    await message!.body!.dispose();
  });

  it('an echo reported for an original not held in RAM is a defect of ours (INTERNAL), never a pass', async () => {
    await expect(classify(echoed(downloadHead), context('download', 'c-icap'))).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('keepBlockPage returns the server\'s own page (relayBlockPage)', async () => {
    const { verdict, message } = await classify(modified(cicapBlockHead, cicapVirusPage, { 'x-infection-found': 'Type=0; Resolution=2; Threat=Eicar;' }), {
      ...context('download', 'c-icap'),
      keepBlockPage: true,
    });
    expect(verdict.action).toBe('block');
    expect(message!.head.status).toBe(403);
    expect(message!.body!.sha256).toBe(sha(cicapVirusPage));
    await message!.body!.dispose();
  });

  it.each([
    ['200', () => modified(downloadHead, downloadBody, { 'x-mfe-prevent': 'SCANFAIL' })],
    ['204', (): IcapResult => ({ kind: 'unmodified', istag: '"x"', headers: icapHeaders({ 'x-mfe-prevent': 'SCANFAIL' }) })],
  ])('X-MFE-PREVENT: SCANFAIL on a %s throws SCAN_UNSCANNABLE', async (_n, result) => {
    await expect(classify(result(), context('download'))).rejects.toMatchObject({ code: 'SCAN_UNSCANNABLE' });
  });

  it('a RESPMOD answered with an HTTP request is a protocol error', async () => {
    await expect(classify(modified(uploadHead, null), context('download'))).rejects.toMatchObject({ code: 'ICAP_PROTOCOL_ERROR' });
  });

  it('an adapted body over the spool limit fails with that limit\'s code and holds nothing', async () => {
    const ctx = { ...context('download'), spool: { memoryBytes: 10, maxBytes: 100, tooLargeCode: 'SCAN_OVERSIZE' as const } };
    await expect(classify(modified(downloadHead, Buffer.alloc(1000)), ctx)).rejects.toMatchObject({ code: 'SCAN_OVERSIZE' });
  });
});

describe('sameHead', () => {
  it('ignores the reason phrase and HTTP version, not the status', () => {
    expect(sameHead(notFoundHead, { ...notFoundHead, reason: 'Nope', version: 'HTTP/1.0' })).toBe(true);
    expect(sameHead(notFoundHead, { ...notFoundHead, status: 410 })).toBe(false);
  });
  it('compares names case-insensitively and values trimmed', () => {
    expect(sameHead(downloadHead, { ...downloadHead, headers: downloadHead.headers.map(([n, v]) => [n.toUpperCase(), ` ${v} `]) })).toBe(true);
  });
  it('a request never equals a response', () => {
    expect(sameHead(uploadHead, downloadHead)).toBe(false);
  });
  it('fields of different names in another order are the same head; same-name fields in another order are not', () => {
    const echo = (headers: HttpHead['headers']): HttpHead => ({ ...downloadHead, headers });
    const base = echo([['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['ETag', '"x"']]);
    expect(sameHead(base, echo([['etag', '"x"'], ['Set-Cookie', 'a=1'], ['Content-Type', 'text/plain'], ['Set-Cookie', 'b=2'], ['Via', '1.0 icap']]))).toBe(true);
    expect(sameHead(base, echo([['Content-Type', 'text/plain'], ['Set-Cookie', 'b=2'], ['Set-Cookie', 'a=1'], ['ETag', '"x"']]))).toBe(false);
    // a field added, dropped or changed, wherever it sits
    expect(sameHead(base, echo([...base.headers, ['X-Scanned', 'yes']]))).toBe(false);
    expect(sameHead(base, echo(base.headers.slice(1)))).toBe(false);
    expect(sameHead(base, echo([['ETag', '"y"'], ...base.headers.slice(0, 3)]))).toBe(false);
  });
  it('fields a Connection header names are hop-by-hop on either side, and only they', () => {
    const withConnection = (headers: HttpHead['headers']): HttpHead => ({ ...uploadHead, headers: [...uploadHead.headers, ...headers] });
    expect(sameHead(withConnection([['Connection', 'close, X-Trace'], ['X-Trace', '1']]), uploadHead)).toBe(true);
    expect(sameHead(uploadHead, withConnection([['connection', 'x-trace'], ['X-Trace', '2']]))).toBe(true);
    expect(sameHead(uploadHead, withConnection([['Connection', 'close'], ['X-Trace', '2']]))).toBe(false);
  });
  it('agrees with a sorted comparison of the end-to-end fields on shuffled, edited heads (oracle)', () => {
    const pool: Array<[string, string]> = [['Content-Type', 'text/html'], ['Vary', 'Accept'], ['Vary', 'Origin'], ['Cache-Control', 'no-store'], ['Via', '1.1 a'], ['Content-Length', '10'], ['X-A', ' 1 '], ['x-a', '2'], ['Connection', 'x-hop'], ['X-Hop', 'h']];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const oracle = (x: HttpHead, y: HttpHead) => {
      const hop = new Set(['via', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'content-length']);
      for (const h of [...x.headers, ...y.headers]) if (h[0].toLowerCase() === 'connection') h[1].split(',').forEach((t) => hop.add(t.trim().toLowerCase()));
      const norm = (z: HttpHead) => z.headers.map(([n, v]) => [n.toLowerCase(), v.trim()] as const).filter(([n]) => !hop.has(n)).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)).map(([n, v]) => `${n}:${v}`).join('\n');
      return norm(x) === norm(y);
    };
    let same = 0;
    for (let round = 0; round < 400; round++) {
      const a = Array.from({ length: rnd(7) }, () => pool[rnd(pool.length)]!);
      const b = [...a];
      for (let k = rnd(3); k > 0; k--) {
        const i = rnd(b.length + 1);
        const op = rnd(3);
        if (op === 0 && b.length > 1) [b[i % b.length], b[(i + 1) % b.length]] = [b[(i + 1) % b.length]!, b[i % b.length]!];
        else if (op === 1) b.splice(i, 0, pool[rnd(pool.length)]!);
        else b.splice(i, 1);
      }
      const x: HttpHead = { ...downloadHead, headers: a };
      const y: HttpHead = { ...downloadHead, headers: b };
      expect(sameHead(x, y)).toBe(oracle(x, y));
      if (oracle(x, y)) same++;
    }
    expect(same).toBeGreaterThan(40);
  });
});
