// `delivery: { mode: patience }` on the driver's side. The first exchange answers at once (the
// progress page, or 202 JSON) and keeps scanning in the background into a PatienceStore entry;
// the page's status polls and its file fetch come back through the proxy on the same URL with
// the reserved query parameter `dlp-proxy-patience=status.TOKEN` / `file.TOKEN`, which the
// exchange machine answers itself: a request carrying it never reaches the origin, whatever its
// token. The origin's response is read to the end by the background scan; the client that asked
// may go away meanwhile.
import type http from 'node:http';
import { formatAuthority } from '../core/host.js';
import { toProxyError, type ProxyError } from '../core/errors.js';
import type { Exchange } from '../core/exchange.js';
import type { Verdict } from '../core/types.js';
import { renderPatiencePage, renderPatienceStatus } from '../enforce/patience-page.js';
import { renderPage } from '../enforce/render-page.js';
import { scanBody, type BodyScanner, type BodyToScan, type ScanOutcome } from './body-scan.js';
import type { PatienceEntry, PatienceOwner, PatienceStore, Settled } from './patience-store.js';
import { pipeHeld, toRaw, withLength, writePage, type Page } from './respond.js';

export const PATIENCE_PARAM = 'dlp-proxy-patience';
const POLL_MS = 1000;

/** The last resort when even our error page could not be rendered. */
const FAILED: Page = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: Buffer.from('The download could not be checked.\n') };

/** `holder`: the cluster worker that holds the file, when the link names one (patience-relay.ts). */
export type PatienceOp = { op: 'status' | 'file'; token: string; holder?: number } | { op: 'invalid' };

/**
 * A response header of the relay between workers (never sent to a client): the decisions and
 * verdicts the holder's answer stands for, for the access line of the worker that relayed it.
 */
export const RELAY_RECORD = 'x-dlp-relay-record';

/** JSON as a header value of the relay, base64url: rule names and paths may hold characters a header cannot. */
export const relayValue = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The reserved parameter of an origin-form target, if present (any value: answered by us). */
export function patienceRequest(target: string): PatienceOp | undefined {
  const q = target.indexOf('?');
  if (q < 0 || !target.includes(PATIENCE_PARAM, q)) return undefined;
  const value = new URLSearchParams(target.slice(q + 1)).get(PATIENCE_PARAM);
  const m = value === null ? null : /^(status|file)\.([A-Za-z0-9_-]{43})(?:\.([1-9]\d{0,8}))?$/.exec(value);
  if (!m) return { op: 'invalid' };
  return { op: m[1] as 'status' | 'file', token: m[2]!, ...(m[3] ? { holder: Number(m[3]) } : {}) };
}

export interface PatienceStart {
  exchange: Exchange;
  res: http.ServerResponse;
  store: PatienceStore;
  scanner: BodyScanner;
  /** the scan's input; its body is the origin's stream */
  input: BodyToScan & { declaredBytes: number };
  answer: 'html' | 'json';
  /** the client's target (origin-form), for the status and file URLs */
  target: string;
  /** the file's head when it passes (framing set when it is served) */
  head: { status: number; reason: string; headers: string[] };
  accept: string | undefined;
  blockPage(verdict: Verdict): Page;
  errorPage(error: ProxyError): Page;
}

/** Answer at once and scan in the background; false when the held-bytes bound says no. */
export function startPatience(p: PatienceStart): boolean {
  const { exchange, store } = p;
  const entry = store.admit(ownerOf(exchange), p.input.declaredBytes, exchange.id, p.input.decision);
  if (!entry) return false;
  const urls = patienceUrls(exchange, p.target, entry.link);
  const rendered =
    p.answer === 'html'
      ? renderPatiencePage({ host: exchange.host, fileName: fileName(exchange.path), totalBytes: entry.totalBytes, receivedBytes: 0, statusUrl: urls.relative.status, fileUrl: urls.relative.file, pollMs: POLL_MS })
      : renderPatienceStatus({ state: 'scanning', receivedBytes: 0, totalBytes: entry.totalBytes, statusUrl: urls.absolute.status, fileUrl: urls.absolute.file }, POLL_MS);
  exchange.status = rendered.status;
  writePage(p.res, rendered);
  const watch = { attach: (spool: Parameters<PatienceEntry['watch']>[0]) => entry.watch(spool), freeze: () => false };
  // No one awaits this scan: every way it ends settles the entry, a defect of ours as a failure
  // (fail closed: an error page, never the file), and nothing is left to reject unheard.
  scanBody(p.scanner, { ...p.input, watch })
    .then((outcome) => settle(p, entry, outcome))
    .catch((err: unknown) => {
      if (entry.state === 'scanning') store.settle(entry, { state: 'failed', page: p.errorPage(toProxyError(err)) }, undefined);
    })
    .catch(() => store.settle(entry, { state: 'failed', page: FAILED }, undefined));
  return true;
}

async function settle(p: PatienceStart, entry: PatienceEntry, outcome: ScanOutcome): Promise<void> {
  let settled: Settled;
  switch (outcome.action) {
    case 'pass':
      settled = { state: 'ready', file: { ...p.head, body: outcome.body } };
      break;
    case 'replace': {
      await outcome.body.dispose();
      const head = outcome.message.head;
      settled = { state: 'ready', file: { status: head.status ?? 200, reason: head.reason ?? '', headers: toRaw(head.headers), body: outcome.message.body } };
      break;
    }
    case 'block':
      await outcome.page?.body?.dispose();
      settled = { state: 'blocked', page: p.blockPage(outcome.verdict) };
      break;
    case 'unavailable':
      settled = { state: 'failed', page: p.errorPage(outcome.error) };
      break;
    case 'oversize': {
      // the origin sent more than it declared and more than can be scanned
      outcome.overflow.rest.destroy();
      outcome.spool.destroy();
      const verdict: Verdict = { action: 'block', reason: 'the download is larger than can be scanned', violations: ['oversize'], source: 'policy' };
      settled = { state: 'blocked', page: p.blockPage(verdict) };
      p.store.settle(entry, settled, verdict);
      return;
    }
  }
  p.store.settle(entry, settled, outcome.verdict);
}

export interface PatienceFetch {
  exchange: Exchange;
  res: http.ServerResponse;
  store: PatienceStore;
  request: PatienceOp;
  target: string;
  accept: string | undefined;
  /** answering another worker's relay: every head carries RELAY_RECORD */
  relayed?: boolean;
}

/** A status poll or the file fetch: answered from the store, never from the origin. */
export async function answerPatience(f: PatienceFetch): Promise<void> {
  const { exchange, res, request } = f;
  // `file`: this answer is the held file, whose bytes the access line counts (not our pages)
  const record = (file = false): Record<string, string> => (f.relayed ? { [RELAY_RECORD]: relayValue({ decisions: exchange.decisions, verdicts: exchange.verdicts, file }) } : {});
  const found = request.op === 'invalid' ? ({ refused: 404 } as const) : f.store.lookup(request.token, ownerOf(exchange));
  if ('refused' in found || request.op === 'invalid') {
    const status = 'refused' in found ? found.refused : 404;
    const page = renderPage('error', { status, code: status === 403 ? 'PATIENCE_LINK_FORBIDDEN' : 'PATIENCE_LINK_UNKNOWN', host: exchange.host, incidentId: exchange.id }, f.accept);
    exchange.status = page.status;
    writePage(res, page, record());
    return;
  }
  const entry = found.found;
  exchange.decisions.push(entry.decision);
  if (request.op === 'status') {
    const urls = patienceUrls(exchange, stripParam(f.target), entry.link);
    const page = renderPatienceStatus({ state: entry.state, receivedBytes: entry.receivedBytes, totalBytes: entry.totalBytes, statusUrl: urls.absolute.status, fileUrl: urls.absolute.file }, POLL_MS);
    exchange.status = page.status;
    writePage(res, page, record());
    return;
  }
  await entry.settled;
  const taken = f.store.take(entry);
  if (entry.verdict) exchange.verdicts.push(entry.verdict);
  if (!taken || res.destroyed) {
    taken?.done();
    if (!res.destroyed) writePage(res, renderPage('error', { status: 404, code: 'PATIENCE_LINK_UNKNOWN', host: exchange.host }, f.accept), record());
    return;
  }
  res.once('close', taken.done);
  const outcome = taken.outcome;
  if (outcome.state !== 'ready') {
    exchange.status = outcome.page.status;
    writePage(res, outcome.page, { 'x-dlp-incident': entry.exchangeId, ...record() });
    return;
  }
  const file = outcome.file;
  exchange.status = file.status;
  res.writeHead(file.status, file.reason, [...withLength(file.headers, file.body?.sizeBytes ?? 0), ...Object.entries(record(true)).flat()]);
  pipeHeld(file.body, res, (n) => (exchange.responseBytes += n));
}

function ownerOf(exchange: Exchange): PatienceOwner {
  return { clientIp: exchange.client.ip, scheme: exchange.scheme, host: exchange.host, port: exchange.port, path: exchange.path };
}

function patienceUrls(exchange: Exchange, target: string, link: string) {
  const sep = target.includes('?') ? '&' : '?';
  const relative = { status: `${target}${sep}${PATIENCE_PARAM}=status.${link}`, file: `${target}${sep}${PATIENCE_PARAM}=file.${link}` };
  const base = `${exchange.scheme}://${formatAuthority(exchange.host, exchange.port, exchange.scheme === 'https' ? 443 : 80)}`;
  return { relative, absolute: { status: base + relative.status, file: base + relative.file } };
}

/** The target without our parameter (the URL the status document points back to). */
function stripParam(target: string): string {
  const q = target.indexOf('?');
  const params = new URLSearchParams(target.slice(q + 1));
  params.delete(PATIENCE_PARAM);
  const rest = params.toString();
  return target.slice(0, q) + (rest ? `?${rest}` : '');
}

function fileName(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last) || path;
  } catch {
    return last || path;
  }
}
