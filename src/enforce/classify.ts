// ICAP result → verdict (DESIGN.md "Key types"), read through the service's vendor profile
// (vendor-profiles.ts). Order matters:
//   1. a block that names no finding and reports the server's own failure → throws ICAP_SERVER_ERROR
//   2. a header naming a threat or a block → block (whatever the status, 204 included), unless the
//      vendor states it let the body pass (its action header, or its 204 is a rule's own pass):
//      then the findings are a monitored violation and the body passes
//   3. X-MFE-PREVENT: SCANFAIL, or an HTTP status the vendor uses for "could not scan"
//                                                     → throws SCAN_UNSCANNABLE (its own fail policy)
//   4. 204                                            → pass
//   5. REQMOD answered with an HTTP response          → block (request satisfaction)
//   6. same head (see same-message.ts) and same body  → pass   (an echo of an original in RAM is
//                                                      recognised by the ICAP reader, else spooled and hashed)
//   7. response status ≥ 400, or the vendor profile   → block
//   8. anything else                                  → replace (the adapted message is returned)
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ProxyError } from '../core/errors.js';
import type { Direction, HttpHead, IcapResult, Verdict } from '../core/types.js';
import { holdChunks, holdWhole, type SpooledBody, type SpoolOptions } from '../body/index.js';
import { sameHead } from './same-message.js';
import { VENDOR_PROFILES, type Vendor, type VendorProfile } from './vendor-profiles.js';
import { findings, hasBlockHeader, hasThreatHeader, isScanFail, namesFromHead, type Findings } from './violations.js';

export interface ClassifyContext {
  direction: Direction;
  /**
   * the message as sent to ICAP: its head, and its body's hash and size; `ram`, the body's bytes
   * when held in RAM (sent whole, so the ICAP reader compared an echo with them)
   */
  original: { head: HttpHead; sha256: string; sizeBytes: number; ram?: readonly Buffer[] | undefined };
  /** the profile in force (resolve-vendor.ts turns `auto` into one) */
  vendor: Vendor;
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
  const { headers } = result;
  const found = findings(headers);
  const allowed = serverAllowed(result, profile);
  const headerBlock = !allowed && hasBlockHeader(headers);
  const block = (reason: string | undefined, head?: HttpHead): Verdict => {
    const names = [...new Set([...found.violations, ...(head ? namesFromHead(head.headers, profile.httpHeadNames) : [])])];
    return { action: 'block', reason: found.reason ?? reason, violations: names, source: 'icap' };
  };
  // A block whose page we hold: read the vendor's reason from it, keep it or drop it.
  const blockWithPage = async (head: HttpHead, body: SpooledBody | null, fallback: string): Promise<Classification> => {
    const pageText = profile.reasonFromPage && found.reason === undefined && body ? await textOf(body) : undefined;
    const verdict = block(pageText ?? fallback, head);
    if (context.keepBlockPage) return { verdict, message: { head, body } };
    await body?.dispose();
    return { verdict };
  };
  const body = result.kind === 'modified' ? result.body : null;

  const failure = serverFailure(result, profile, found);
  if (failure !== undefined) {
    await discard(body);
    throw new ProxyError('ICAP_SERVER_ERROR', `the scanning service reported a failure of its own: ${failure}`);
  }

  if (result.kind === 'unmodified') {
    if (headerBlock) return { verdict: block('threat reported by the scanning service') };
    if (isScanFail(headers)) throw unscannable('X-MFE-PREVENT: SCANFAIL');
    if (allowed && hasThreatHeader(headers)) return { verdict: monitored(found) };
    return { verdict: { action: 'pass', violations: [], source: 'icap' } };
  }

  const { head } = result;
  if (context.direction === 'download' && head.kind === 'request') {
    await discard(body);
    throw new ProxyError('ICAP_PROTOCOL_ERROR', 'RESPMOD answered with an HTTP request');
  }
  const status = head.kind === 'response' ? (head.status ?? 0) : 0;
  const wantPage = context.keepBlockPage === true || (profile.reasonFromPage && found.reason === undefined);
  if (headerBlock) {
    if (!wantPage) {
      await discard(body);
      return { verdict: block('threat reported by the scanning service', head) };
    }
    return blockWithPage(head, await hold(body, context.spool), 'threat reported by the scanning service');
  }
  // The vendor's "could not scan" status, unless the origin itself answered with it.
  const scanError = head.kind === 'response' && profile.unscannableStatuses.includes(status) && context.original.head.status !== status;
  if (isScanFail(headers) || scanError) {
    await discard(body);
    throw unscannable(scanError ? `HTTP ${status} from the scanning service` : 'X-MFE-PREVENT: SCANFAIL');
  }
  if (context.direction === 'upload' && head.kind === 'response') {
    const fallback = `the scanning service refused the request (HTTP ${status})`;
    if (!wantPage) {
      await discard(body);
      return { verdict: block(fallback, head) };
    }
    return blockWithPage(head, await hold(body, context.spool), fallback);
  }

  const { original } = context;
  // An echo of a body held in RAM was recognised by the ICAP reader as it arrived (c-icap's pass):
  // no second spool, no second hash. Any other body is held and its hash compared.
  const echoHead = sameHead(original.head, head);
  const echoed = result.echo === true ? echoedBytes(original) : undefined;
  const adapted = echoed ? (echoHead ? null : await holdChunks(echoed, context.spool)) : await hold(body, context.spool);
  const sameBody = echoed !== undefined || (adapted === null ? original.sizeBytes === 0 : adapted.sha256 === original.sha256 && adapted.sizeBytes === original.sizeBytes);
  if (sameBody && echoHead) {
    await adapted?.dispose();
    return { verdict: allowed && hasThreatHeader(headers) ? monitored(found) : { action: 'pass', violations: [], source: 'icap' } };
  }
  if (status >= 400 || (context.direction === 'download' && profile.respmodChangeIsBlock)) {
    return blockWithPage(head, adapted, `the scanning service replaced the response with HTTP ${status}`);
  }
  return { verdict: { action: 'replace', reason: found.reason, violations: found.violations, source: 'icap' }, message: { head, body: adapted } };
}

/** The vendor says it let the body pass: its action header, or a 204 that is a rule's own pass. */
function serverAllowed(result: IcapResult, profile: VendorProfile): boolean {
  if (profile.actionHeader) {
    const action = result.headers.get(profile.actionHeader.name);
    if (action !== undefined) return profile.actionHeader.allowed.test(action);
  }
  return result.kind === 'unmodified' && profile.unmodifiedMeansAllowed;
}

/** Findings the server reported and let pass (a monitor or trial rule): logged, passed. */
function monitored(found: Findings): Verdict {
  return { action: 'pass', reason: found.reason ?? 'reported by the scanning service, which let it pass (a monitor rule)', violations: found.violations, source: 'icap' };
}

/** MetaDefender: "Blocked" with no finding, and a description of its own failure. */
function serverFailure(result: IcapResult, profile: VendorProfile, found: Findings): string | undefined {
  if (!profile.serverFailureReason || hasThreatHeader(result.headers) || found.reason === undefined) return undefined;
  if (!/^\s*block(ed)?\b/i.test(result.headers.get(profile.actionHeader?.name ?? 'x-response-info') ?? '')) return undefined;
  return profile.serverFailureReason.test(found.reason) ? found.reason : undefined;
}

function unscannable(signal: string): ProxyError {
  return new ProxyError('SCAN_UNSCANNABLE', `the scanning service could not scan the object (${signal})`);
}

function hold(body: Readable | null, options: SpoolOptions): Promise<SpooledBody | null> {
  return body === null ? Promise.resolve(null) : holdWhole(body, options);
}

/** The bytes an echo repeated: the original's, which only a body held in RAM can be compared with. */
function echoedBytes(original: ClassifyContext['original']): readonly Buffer[] {
  if (original.ram === undefined) throw new ProxyError('INTERNAL', 'an echoed body was reported for an original not held in RAM');
  return original.ram;
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
