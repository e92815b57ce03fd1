// One large download through a scanning proxy from an origin throttled to a given rate (the
// origin's /stream/N?rate=B), as a browser asks for it (a navigation: Sec-Fetch-Mode and an Accept
// that puts HTML first), timed at the client from the request: the response head, the first and
// the last byte of the file, and the longest time no byte arrived (what a client's read timeout
// meets). When the proxy answers with a patience page instead of the file, this client does what
// the page's script does: it reads the status URL from the page, polls it (JSON) at the pace the
// status asks for until the file is ready, then fetches the file from the URL the status gives.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DeliveryTiming, LoadResult, SlowDownload } from './types.js';

export interface SlowDownloadOptions {
  proxyPort: number;
  originPort: number;
  sizeBytes: number;
  rateBytesPerSec: number;
  deadlineMs: number;
  signal?: AbortSignal;
}


const BROWSER_NAVIGATION = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
/** Pages and status documents are small: more than this is taken as the file. */
const PAGE_MAX_BYTES = 1024 * 1024;

interface Fetched {
  status: number;
  contentType: string;
  headersMs: number;
  firstByteMs: number | undefined;
  lastByteMs: number;
  bytes: number;
  /** The body, when it is a page or a status document (not the file). */
  text: string | undefined;
}

/** Times from the start of the whole download, and the longest silence between bytes so far. */
class Clock {
  readonly started = performance.now();
  #lastByte = this.started;
  longestSilenceMs = 0;

  now(): number {
    return performance.now() - this.started;
  }

  /** Bytes arrived now. */
  tick(): void {
    const t = performance.now();
    this.longestSilenceMs = Math.max(this.longestSilenceMs, t - this.#lastByte);
    this.#lastByte = t;
  }
}

function fetchVia(o: SlowDownloadOptions, clock: Clock, target: string, headers: http.OutgoingHttpHeaders): Promise<Fetched> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: o.proxyPort, method: 'GET', path: url.href, agent: false, headers: { host: url.host, ...headers } }, (res) => {
      const headersMs = clock.now();
      const contentType = String(res.headers['content-type'] ?? '');
      const keep = !contentType.startsWith('application/octet-stream');
      const chunks: Buffer[] = [];
      let bytes = 0;
      let firstByteMs: number | undefined;
      res.on('data', (chunk: Buffer) => {
        clock.tick();
        firstByteMs ??= clock.now();
        bytes += chunk.length;
        if (keep && bytes <= PAGE_MAX_BYTES) chunks.push(chunk);
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, contentType, headersMs, firstByteMs, lastByteMs: clock.now(), bytes, text: keep ? Buffer.concat(chunks).toString('utf8') : undefined }));
      // a trickled download whose scan blocks is cut: the client sees a failed download
      res.once('error', reject);
      res.once('aborted', () => reject(new Error(`the connection was cut after ${bytes} bytes of ${target}`)));
    });
    const left = o.deadlineMs - clock.now();
    const timer = setTimeout(() => req.destroy(new Error(`not finished within ${Math.round(o.deadlineMs / 1000)} s`)), Math.max(1, left));
    const abort = () => req.destroy(new Error('interrupted'));
    o.signal?.addEventListener('abort', abort, { once: true });
    req.once('close', () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
    });
    req.once('error', reject);
    req.end();
  });
}

/** Undo the escapes a URL may carry inside an HTML attribute or a script's JSON. */
function unescapeUrl(raw: string): string {
  return raw
    .replace(/&amp;|&#38;|&#x26;/gi, '&')
    .replace(/&#61;/g, '=')
    .replace(/\\u0026/gi, '&')
    .replace(/\\u003d/gi, '=')
    .replace(/\\\//g, '/');
}

const urlWith = (op: 'status' | 'file') => new RegExp(`[^"'\\s<>()]*dlp-proxy-patience(?:=|\\\\u003d|&#61;)${op}\\.[A-Za-z0-9_-]+`);

/**
 * What a patience page's script works from, as absolute URLs: the status URL it polls, the file
 * URL it opens once the status is settled, and the pause before each poll. The page holds them
 * relative to the file's URL, HTML- or JSON-escaped.
 */
export function readPatiencePage(page: string, fileUrl: string): { statusUrl: string; fileUrl: string | undefined; pollMs: number } | undefined {
  const status = urlWith('status').exec(page);
  if (!status) return undefined;
  const file = urlWith('file').exec(page);
  const pollMs = Number(/"?pollMs"?\s*:\s*(\d+)/.exec(page)?.[1] ?? 1000);
  return { statusUrl: new URL(unescapeUrl(status[0]), fileUrl).href, fileUrl: file ? new URL(unescapeUrl(file[0]), fileUrl).href : undefined, pollMs: pollMs > 0 ? pollMs : 1000 };
}

/** What a patience status document says: its state and, once known, the file's URL. */
export function readPatienceStatus(text: string, statusUrl: string): { state: string; fileUrl: string | undefined } {
  const doc = JSON.parse(text) as { state?: unknown; fileUrl?: unknown };
  return { state: String(doc.state), fileUrl: typeof doc.fileUrl === 'string' ? new URL(doc.fileUrl, statusUrl).href : undefined };
}

/** A poll that finds no entry: with several workers it may have reached one that does not hold the file. */
const MAX_MISSED_POLLS = 10;

/** What the page's script does: wait, poll, and once the status is settled open the file URL. */
async function followPatience(o: SlowDownloadOptions, clock: Clock, page: Fetched, fileUrl: string): Promise<{ file: Fetched; polls: number }> {
  const cfg = readPatiencePage(page.text ?? '', fileUrl);
  if (!cfg) throw new Error(`HTTP ${page.status} ${page.contentType} without a patience status URL (neither the file nor a patience page)`);
  let misses = 0;
  for (let polls = 1; ; polls++) {
    if (clock.now() > o.deadlineMs) throw new Error(`still scanning after ${Math.round(o.deadlineMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, cfg.pollMs));
    const status = await fetchVia(o, clock, cfg.statusUrl, { accept: 'application/json' });
    if (status.status === 404 || status.status === 403) {
      if (++misses > MAX_MISSED_POLLS) throw new Error(`the patience status answered HTTP ${status.status} ${misses} times`);
      continue;
    }
    misses = 0;
    if (!status.text) throw new Error(`the patience status answered HTTP ${status.status} ${status.contentType}`);
    const s = readPatienceStatus(status.text, cfg.statusUrl);
    if (s.state === 'scanning') continue;
    if (s.state !== 'ready') throw new Error(`the patience status says ${s.state}`);
    const target = cfg.fileUrl ?? s.fileUrl;
    if (!target) throw new Error('neither the patience page nor its status names the file URL');
    return { file: await fetchVia(o, clock, target, BROWSER_NAVIGATION), polls };
  }
}

/**
 * Why the download shows that the rule's mode was not in effect (a build whose schema takes the
 * key but whose proxy holds anyway), or undefined: patience answers a page first, and trickle
 * sends a first byte before the origin has sent its last.
 */
export function modeNotInEffect(slow: SlowDownload, timing: DeliveryTiming): string | undefined {
  const originAloneMs = (slow.sizeBytes / slow.rateBytesPerSec) * 1000;
  if (slow.mode === 'patience' && timing.pageMs === undefined) return 'the proxy answered with the file, not a patience page: delivery.mode patience is not in effect in this build';
  if (slow.mode === 'trickle' && timing.firstByteMs >= originAloneMs) return `no byte before the origin's last (first byte at ${(timing.firstByteMs / 1000).toFixed(1)} s): delivery.mode trickle is not in effect in this build`;
  return undefined;
}

/** The download as a one-request load result, and its timing (undefined when it did not complete). */
export async function runSlowDownload(o: SlowDownloadOptions): Promise<{ load: LoadResult; timing?: DeliveryTiming; error?: string }> {
  const clock = new Clock();
  const fileUrl = `http://127.0.0.1:${o.originPort}/stream/${o.sizeBytes}?rate=${o.rateBytesPerSec}`;
  const failed = (error: string) => ({ load: { requests: 0, errors: 1, non2xx: 0, durationS: clock.now() / 1000, reqPerSec: 0, bytesPerSec: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 }, error });
  try {
    const first = await fetchVia(o, clock, fileUrl, BROWSER_NAVIGATION);
    const isFile = first.text === undefined;
    const { file, polls } = isFile ? { file: first, polls: undefined } : await followPatience(o, clock, first, fileUrl);
    if (file.status !== 200 || file.bytes !== o.sizeBytes) return failed(`the file came as HTTP ${file.status} with ${file.bytes} of ${o.sizeBytes} bytes`);
    const durationS = file.lastByteMs / 1000;
    const timing: DeliveryTiming = {
      headersMs: first.headersMs,
      firstByteMs: file.firstByteMs ?? file.lastByteMs,
      lastByteMs: file.lastByteMs,
      longestSilenceMs: clock.longestSilenceMs,
      ...(isFile ? {} : { pageMs: first.lastByteMs, polls }),
    };
    const load: LoadResult = { requests: 1, errors: 0, non2xx: 0, durationS, reqPerSec: 1 / durationS, bytesPerSec: o.sizeBytes / durationS, p50Ms: file.lastByteMs, p99Ms: file.lastByteMs, maxMs: file.lastByteMs };
    return { load, timing };
  } catch (err) {
    return failed(err instanceof Error ? err.message : String(err));
  }
}
