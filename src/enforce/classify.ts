// ICAP result → verdict (DESIGN.md "Key types"). Order matters:
//   1. a header naming a threat or a block            → block (whatever the status, 204 included)
//   2. X-MFE-PREVENT: SCANFAIL                        → throws SCAN_UNSCANNABLE (its own fail policy)
//   3. 204                                            → pass
//   4. REQMOD answered with an HTTP response          → block (request satisfaction)
//   5. same head (see same-message.ts) and same body  → pass   (the body is spooled and hashed)
//   6. response status ≥ 400, or the vendor profile   → block
//   7. anything else                                  → replace (the adapted message is returned)
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ServiceConfig } from '../config/schema.js';
import { ProxyError } from '../core/errors.js';
import type { Direction, HttpHead, IcapResult, Verdict } from '../core/types.js';
import { Spool, type SpooledBody, type SpoolOptions } from '../body/index.js';
import { sameHead } from './same-message.js';
import { VENDOR_PROFILES } from './vendor-profiles.js';
import { findings, hasBlockHeader, isScanFail } from './violations.js';

export interface ClassifyContext {
  direction: Direction;
  /** the message as sent to ICAP: its head, and its body's hash and size */
  original: { head: HttpHead; sha256: string; sizeBytes: number };
  vendor: ServiceConfig['vendor'];
  /** how to hold the adapted body (memory threshold, limit, temp dir) */
  spool: SpoolOptions;
  /** keep the ICAP server's own page on a block (service.relayBlockPage) */
  keepBlockPage?: boolean;
}

/** The adapted message; the caller owns `body` and must dispose it. */
export interface AdaptedMessage {
  head: HttpHead;
  body: SpooledBody | null;
}

export interface Classification {
  verdict: Verdict;
  /** on replace: what to forward; on block with keepBlockPage: the server's page */
  message?: AdaptedMessage;
}

const PAGE_TEXT_BYTES = 4096;

export async function classify(result: IcapResult, context: ClassifyContext): Promise<Classification> {
  const profile = VENDOR_PROFILES[context.vendor];
  const found = findings(result.headers);
  const block = (reason: string | undefined): Verdict => ({ action: 'block', reason: found.reason ?? reason, violations: found.violations, source: 'icap' });
  const headerBlock = hasBlockHeader(result.headers);
  // A block whose page we hold: read the vendor's reason from it, keep it or drop it.
  const blockWithPage = async (head: HttpHead, body: SpooledBody | null, fallback: string): Promise<Classification> => {
    const pageText = profile.reasonFromPage && found.reason === undefined && body ? await textOf(body) : undefined;
    const verdict = block(pageText ?? fallback);
    if (context.keepBlockPage) return { verdict, message: { head, body } };
    await body?.dispose();
    return { verdict };
  };

  if (result.kind === 'unmodified') {
    if (headerBlock) return { verdict: block('threat reported by the scanning service') };
    if (isScanFail(result.headers)) throw unscannable();
    return { verdict: { action: 'pass', violations: [], source: 'icap' } };
  }

  const { head } = result;
  if (context.direction === 'download' && head.kind === 'request') {
    await discard(result.body);
    throw new ProxyError('ICAP_PROTOCOL_ERROR', 'RESPMOD answered with an HTTP request');
  }
  const reqmodAnswered = context.direction === 'upload' && head.kind === 'response';
  if (headerBlock || reqmodAnswered) {
    const fallback = headerBlock ? 'threat reported by the scanning service' : `the scanning service refused the request (HTTP ${head.status})`;
    const wantBody = context.keepBlockPage === true || (profile.reasonFromPage && found.reason === undefined);
    if (!wantBody) {
      await discard(result.body);
      return { verdict: block(fallback) };
    }
    return blockWithPage(head, await hold(result.body, context.spool), fallback);
  }
  if (isScanFail(result.headers)) {
    await discard(result.body);
    throw unscannable();
  }

  const body = await hold(result.body, context.spool);
  const sameBody = body === null ? context.original.sizeBytes === 0 : body.sha256 === context.original.sha256 && body.sizeBytes === context.original.sizeBytes;
  if (sameBody && sameHead(context.original.head, head)) {
    await body?.dispose();
    return { verdict: { action: 'pass', violations: [], source: 'icap' } };
  }
  const status = head.kind === 'response' ? (head.status ?? 0) : 0;
  if (status >= 400 || (context.direction === 'download' && profile.respmodChangeIsBlock)) {
    return blockWithPage(head, body, `the scanning service replaced the response with HTTP ${status}`);
  }
  return { verdict: { action: 'replace', reason: found.reason, violations: found.violations, source: 'icap' }, message: { head, body } };
}

function unscannable(): ProxyError {
  return new ProxyError('SCAN_UNSCANNABLE', 'the scanning service could not scan the object (X-MFE-PREVENT: SCANFAIL)');
}

async function hold(body: Readable | null, options: SpoolOptions): Promise<SpooledBody | null> {
  if (body === null) return null;
  const spool = new Spool(options);
  await pipeline(body, spool);
  return spool.done;
}

/** Read and drop a body we do not keep, so the ICAP connection ends its transaction cleanly. */
async function discard(body: Readable | null): Promise<void> {
  if (body === null) return;
  body.resume();
  await finished(body);
}

/** The visible text at the start of a vendor's page: tags dropped, blanks collapsed, clipped. */
async function textOf(body: SpooledBody): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  const stream = body.replay();
  for await (const chunk of stream) {
    parts.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= PAGE_TEXT_BYTES) break;
  }
  stream.destroy();
  const html = Buffer.concat(parts).subarray(0, PAGE_TEXT_BYTES).toString('utf8');
  const text = html
    .replace(/<(script|style|title|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/[\u0000-\u001f\u007f\s]+/g, ' ')
    .trim();
  if (text === '') return undefined;
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
