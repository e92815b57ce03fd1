// Stages 2-5 for one body (a request body on upload, a response body on download):
//
//   2 body     spool it (RAM, then a 0600 temp file), SHA-256 while it streams in
//   3 verdict  known length ≤ cacheFirstMaxBytes: wait for the hash, ask the cache first
//              larger or unknown length: stream to ICAP as it arrives (preview first), cache after
//   4 icap     REQMOD / RESPMOD; Allow: 204 offered at every size since the spool can replay
//   5 enforce  classify → pass | replace | block; monitor turns a block into a logged pass;
//              an ICAP failure takes the service's fail mode for its error class
//
// The spool is capped at scan.maxScanBytes: a body that grows past it stops there (the rest stays
// unread in its source) and comes back as `oversize`, for the exchange to block it or send it on
// unscanned. Only a completed scan is cached: a pass the server gave without reading the whole
// body (Transfer-Ignore, a 204 within the preview) is `unscanned`, and never remembered.
//
// Nothing here writes to the client or the origin: the caller forwards what the outcome says.
import type { Readable } from 'node:stream';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Config, ServiceConfig } from '../config/schema.js';
import { ProxyError, toProxyError } from '../core/errors.js';
import { events } from '../core/events.js';
import type { Exchange } from '../core/exchange.js';
import type { Decision, Direction, HttpHead, Verdict } from '../core/types.js';
import { Spool, feedSpool, type Overflow, type SpooledBody } from '../body/index.js';
import { classify, type AdaptedMessage } from '../enforce/classify.js';
import { failMode } from '../enforce/fail-policy.js';
import { resolveVendor } from '../enforce/resolve-vendor.js';
import { profileKeyPart } from '../enforce/vendor-profiles.js';
import type { IcapService } from '../icap/index.js';
import { verdictKey, type VerdictCache } from '../verdict/index.js';

export interface ScanService {
  name: string;
  config: ServiceConfig;
  icap: IcapService;
}

export interface BodyScanner {
  scan: Config['scan'];
  cache: VerdictCache;
  policyVersion: string;
  services: ReadonlyMap<string, ScanService>;
}

export interface BodyToScan {
  exchange: Exchange;
  direction: Direction;
  decision: Decision;
  /** the HTTP request head as the next hop will see it (absolute URI) */
  reqHead: HttpHead;
  /** RESPMOD: the response head */
  resHead?: HttpHead;
  body: Readable;
  /**
   * the body already held whole (a size rule had it measured): scanned from that spool, never
   * spooled and hashed a second time; `body` is then not read
   */
  held?: SpooledBody | undefined;
  /** Content-Length when the sender declared one */
  declaredBytes: number | undefined;
  /** the origin's address, for X-Server-IP (services.*.sendServerIp) when already connected */
  serverIp?: string | undefined;
  /** a delivery that follows the spool while the scan runs (trickle, patience: delivery.ts) */
  watch?: ScanWatch | undefined;
}

export interface ScanWatch {
  /** the body's spool, as soon as it exists */
  attach(spool: Spool): void;
  /** the verdict is in: stop sending; true when the client already has the head (a replace is then a block) */
  freeze(): boolean;
}

export type ScanOutcome =
  /** forward `body` (the original, spooled) */
  | { action: 'pass'; verdict: Verdict; body: SpooledBody }
  /** forward the adapted message instead */
  | { action: 'replace'; verdict: Verdict; body: SpooledBody; message: AdaptedMessage }
  /** answer with a block page (ours, or the server's `page` when the service relays it) */
  | { action: 'block'; verdict: Verdict; page?: AdaptedMessage }
  /** scanning failed and the service fails closed: answer 503 */
  | { action: 'unavailable'; verdict: Verdict; error: ProxyError }
  /**
   * the body grew past scan.maxScanBytes: nothing was decided. `spool` holds the bytes before
   * `overflow.chunk`, the source is paused on the rest: destroy the spool to refuse, or
   * overflowStream(spool, overflow) to send it all on unscanned.
   */
  | { action: 'oversize'; spool: Spool; overflow: Overflow };

const OVERSIZE = new ProxyError('SCAN_OVERSIZE', 'the body grew past scan.maxScanBytes');

export async function scanBody(scanner: BodyScanner, input: BodyToScan): Promise<ScanOutcome> {
  const { exchange, direction, decision } = input;
  const service = scanner.services.get(decision.service ?? '');
  if (!service) throw new ProxyError('INTERNAL', `policy names unknown service ${decision.service}`);
  const { scan } = scanner;

  // 2: spool. The body keeps streaming in while the scan runs; backpressure holds the sender
  // when the disk is slower than the network. A body held whole already is not spooled again:
  // one spool and one hash per body.
  const held = input.held;
  const spool = held
    ? undefined
    : new Spool({
        memoryBytes: scan.spoolMemoryBytes,
        maxBytes: scan.maxScanBytes,
        tooLargeCode: 'SCAN_OVERSIZE',
        ...(scan.spoolDir === undefined ? {} : { dir: scan.spoolDir }),
      });
  if (spool) input.watch?.attach(spool);
  const upload = direction === 'upload';
  // Aborts an ICAP transaction that reads the body as it arrives, once the body overflows. A body
  // sent only once it is whole can no longer overflow: its transaction carries no signal.
  let abort: AbortController | undefined;
  let overflow: Overflow | undefined;
  const fed = spool ? feedSpool(input.body, spool, scan.maxScanBytes, upload ? 'CLIENT_READ_FAILED' : 'UPSTREAM_READ_FAILED', upload ? 'the client' : 'the origin') : Promise.resolve(undefined);
  // The whole body, or OVERSIZE once it overflowed (the ICAP transaction is aborted then; the
  // spool stays open, so its own `done` would never settle). One promise per body, not a race
  // per wait.
  let overflowed: (err: ProxyError) => void = () => undefined;
  const wholeBody: Promise<SpooledBody> = spool
    ? new Promise((resolve, reject) => {
        overflowed = reject;
        spool.done.then(resolve, reject);
      })
    : Promise.resolve(held!);
  wholeBody.catch(() => undefined);
  fed.then((o) => {
    if (!o) return;
    overflow = o;
    abort?.abort(OVERSIZE);
    overflowed(OVERSIZE);
  }, () => undefined);
  const whole = () => wholeBody;
  /** drop what this scan spooled (a held body is the exchange's, released with it) */
  const drop = () => spool?.destroy();
  const settle = (outcome: Exclude<ScanOutcome, { action: 'oversize' }>, spooled?: SpooledBody, monitored = false): ScanOutcome => {
    if (upload) exchange.requestBytes = Math.max(exchange.requestBytes, spool?.size ?? held!.sizeBytes);
    publishVerdict(input, service, outcome.verdict, spooled, monitored);
    return outcome;
  };
  /** A pass without a verdict of the scanner (fail-open, bypass): once the whole body is here. */
  const passUnscanned = async (verdict: Verdict): Promise<ScanOutcome> => {
    try {
      const spooled = await whole();
      return settle({ action: 'pass', verdict, body: spooled }, spooled);
    } catch (err) {
      if (overflow && spool) return { action: 'oversize', spool, overflow };
      throw spool?.failure ?? err;
    }
  };
  let adapted: AdaptedMessage | undefined;
  let blockPage: AdaptedMessage | undefined;
  // Identity headers (services.*.send*): every request object the same shape, absent as undefined.
  const clientIp = service.config.sendClientIp ? exchange.client.ip : undefined;
  const user = service.config.sendUser && exchange.client.user ? exchange.client.user : undefined;
  const serverIp = service.config.sendServerIp ? await serverAddress(input) : undefined;

  try {
    const options = await service.icap.options();
    // `vendor: auto` reads the vendor from OPTIONS; the verdict key names the profile in force.
    const profile = resolveVendor(service.icap, service.name, service.config.vendor, options.headers);
    const keyVersion = `${scanner.policyVersion}.${profileKeyPart(profile)}`;
    // The ISTag in force: OPTIONS, or a later answer that carried a new one (RFC 3507 §4.7).
    const istag = service.icap.istag ?? options.istag ?? '';
    const method = direction === 'upload' ? 'REQMOD' : 'RESPMOD';
    let head = direction === 'upload' ? input.reqHead : input.resHead!;

    const icapScan = async (body: Readable | readonly Buffer[], bodyBytes: number | undefined, original: () => Promise<SpooledBody>): Promise<Verdict> => {
      const result = await service.icap.send({ method, reqHead: input.reqHead, resHead: input.resHead, body, bodyBytes, allow204: true, clientIp, serverIp, user, signal: abort?.signal });
      const spooled = await original();
      const classification = await classify(result, {
        direction,
        original: { head, sha256: spooled.sha256, sizeBytes: spooled.sizeBytes, ram: spooled.ram },
        vendor: profile.vendor,
        spool: { memoryBytes: scan.spoolMemoryBytes, maxBytes: scan.maxScanBytes, ...(scan.spoolDir === undefined ? {} : { dir: scan.spoolDir }) },
        keepBlockPage: service.config.relayBlockPage,
      });
      if (classification.verdict.action === 'replace') adapted = classification.message;
      else if (classification.message) blockPage = classification.message;
      if (!result.complete && classification.verdict.action === 'pass') {
        const why = result.headers.get('x-icap-transfer') === 'ignore' ? 'the server asked not to be sent such files (Transfer-Ignore)' : 'the server passed it within the preview';
        return { action: 'pass', reason: `not scanned whole: ${why}`, violations: [], source: 'unscanned' };
      }
      return classification.verdict;
    };

    let verdict: Verdict;
    let spooled: SpooledBody;
    const known = input.declaredBytes !== undefined;
    if ((known && input.declaredBytes! <= scan.cacheFirstMaxBytes) || (!known && profile.needsContentLength)) {
      // 3: cache first. Identical concurrent bodies make one ICAP transaction. The heads sent to
      // ICAP carry the body's real length.
      spooled = await whole();
      const length = spooled.sizeBytes;
      if (!known) {
        if (direction === 'upload') input.reqHead = withContentLength(input.reqHead, length);
        else input.resHead = withContentLength(input.resHead!, length);
        head = direction === 'upload' ? input.reqHead : input.resHead!;
      }
      const key = verdictKey({ sha256: spooled.sha256, direction, service: service.name, istag, policyVersion: keyVersion });
      ({ verdict } = await scanner.cache.getOrScan(key, () => icapScan(spooled.ram ?? spooled.replay(), length, async () => spooled)));
    } else {
      // Large or unknown length: ICAP reads the body as it arrives; the spool still keeps it so
      // a 204 replays the original. The verdict is remembered under the hash afterwards.
      abort = new AbortController();
      if (overflow) abort.abort(OVERSIZE);
      verdict = await icapScan(spool ? spool.follow() : held!.replay(), input.declaredBytes, whole);
      spooled = await whole();
      const key = verdictKey({ sha256: spooled.sha256, direction, service: service.name, istag, policyVersion: keyVersion });
      await scanner.cache.remember(key, verdict);
    }

    // 5: enforce
    if (input.watch?.freeze() && verdict.action === 'replace') {
      // The client has the head and some of the original: a replacement cannot follow it.
      await adapted?.body?.dispose();
      await spooled.dispose();
      const cut: Verdict = { ...verdict, action: 'block', reason: `the scanning service replaced the file after its first bytes were sent (delivery: trickle): cut${verdict.reason ? ` (${verdict.reason})` : ''}`, violations: [...verdict.violations, 'replaced-after-trickle'] };
      return settle({ action: 'block', verdict: cut }, spooled);
    }
    if (verdict.action === 'block') {
      if (decision.onViolation === 'monitor') {
        await blockPage?.body?.dispose();
        return settle({ action: 'pass', verdict, body: spooled }, spooled, true);
      }
      await spooled.dispose();
      return settle({ action: 'block', verdict, ...(blockPage ? { page: blockPage } : {}) }, spooled);
    }
    if (verdict.action === 'replace' && adapted) return settle({ action: 'replace', verdict, body: spooled, message: adapted }, spooled);
    // findings the server itself let pass (its monitor or trial rule) are logged as monitored
    return settle({ action: 'pass', verdict, body: spooled }, spooled, verdict.violations.length > 0);
  } catch (err) {
    // The body overflowed: whatever ICAP said about a part of it is moot.
    if (overflow && spool) {
      await blockPage?.body?.dispose();
      await adapted?.body?.dispose();
      return { action: 'oversize', spool, overflow };
    }
    // When the spool failed (sender gone, disk) that is the cause; ICAP only saw its effect.
    const error = spool?.failure instanceof ProxyError ? spool.failure : toProxyError(err);
    if (error.hop === 'client' || error.hop === 'upstream' || error.hop === 'spool' || error.hop === 'internal') {
      drop();
      throw error;
    }
    events.error.publish({ exchange, error });
    // Overload (no connection free before the queue deadline on any server, or 503s): the
    // service's onOverload, as Squid's on-overload; 'wait' leaves it to the overload fail mode.
    if ((error.code === 'ICAP_OVERLOADED' || error.code === 'ICAP_QUEUE_TIMEOUT') && service.config.onOverload !== 'wait') {
      if (service.config.onOverload === 'bypass') return passUnscanned({ action: 'pass', reason: 'overload: bypass', violations: [], source: 'fail-open' });
      drop();
      return settle({ action: 'block', verdict: { action: 'block', reason: `the ${service.name} scanning service is overloaded (${error.code})`, violations: ['overload'], source: 'fail-closed' } });
    }
    if (failMode(service.config, error.code) === 'open') {
      // Fail open: the body passes unscanned, once it is all here.
      return passUnscanned({ action: 'pass', reason: `scanning failed (${error.code}); failing open`, violations: [], source: 'fail-open' });
    }
    drop();
    return settle({ action: 'unavailable', error, verdict: { action: 'block', reason: `scanning failed (${error.code})`, violations: [], source: 'fail-closed' } });
  }
}

/** X-Server-IP: the connected origin's address, or the host's when it is a literal or resolves. */
async function serverAddress(input: BodyToScan): Promise<string | undefined> {
  if (input.serverIp) return input.serverIp;
  const host = input.exchange.host;
  if (net.isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch {
    return undefined; // the origin hop will report the DNS failure in its own words
  }
}

/** The head with its framing replaced by the length of the body we now hold. */
function withContentLength(head: HttpHead, length: number): HttpHead {
  const headers = head.headers.filter(([name]) => !/^(content-length|transfer-encoding)$/i.test(name));
  headers.push(['Content-Length', String(length)]);
  return { ...head, headers };
}

function publishVerdict(input: BodyToScan, service: ScanService, verdict: Verdict, body: SpooledBody | undefined, monitored: boolean): void {
  input.exchange.verdicts.push(verdict);
  events.verdict.publish({
    exchange: input.exchange,
    direction: input.direction,
    service: service.name,
    verdict,
    istag: service.icap.istag,
    sha256: body?.sha256,
    sizeBytes: body?.sizeBytes ?? input.declaredBytes ?? 0,
    monitored,
    rule: input.decision.rule,
  });
}
