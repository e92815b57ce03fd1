// The patience page (policy rule `delivery: { mode: patience }`): what a browser gets at once for
// a large download while it is scanned. It shows bytes received and the scanning state, polls
// the status URL, and when the verdict is in opens the file URL, which answers the file or our
// block page. JSON clients get the same facts as a 202 document (RFC 9110 §15.3.3) with the
// status URL and Retry-After. The page's one script carries a per-page nonce; it may connect only
// to its own origin (CSP connect-src 'self'), which is where the proxy answers the status URL.
import { randomBytes } from 'node:crypto';
import { escapeHtml } from './template.js';

export interface PatienceFields {
  host: string;
  /** the file's name as the browser will save it, when known */
  fileName: string;
  totalBytes: number;
  receivedBytes: number;
  /** relative (same-origin) for the page, absolute for JSON */
  statusUrl: string;
  fileUrl: string;
  pollMs: number;
}

export interface PatienceStatus {
  state: 'scanning' | 'ready' | 'blocked' | 'failed';
  receivedBytes: number;
  totalBytes: number;
  statusUrl: string;
  fileUrl: string;
}

export interface RenderedPatience {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function renderPatiencePage(f: PatienceFields): RenderedPatience {
  const nonce = randomBytes(16).toString('base64');
  const data = JSON.stringify({ statusUrl: f.statusUrl, fileUrl: f.fileUrl, pollMs: f.pollMs }).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checking your download from ${escapeHtml(f.host)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
progress{width:100%;height:1.2rem}#state{font-weight:600}</style></head>
<body><h1>Checking your download</h1>
<p><b>${escapeHtml(f.fileName)}</b> from ${escapeHtml(f.host)} is being checked for threats before it is handed to you.
It will download by itself when the check is done; keep this page open.</p>
<p><progress id="bar" max="${f.totalBytes}" value="${f.receivedBytes}"></progress></p>
<p><span id="got">${f.receivedBytes}</span> of ${f.totalBytes} bytes received &middot; <span id="state">scanning</span></p>
<p><a id="file" href="${escapeHtml(f.fileUrl)}">Fetch the file</a> (waits for the check)</p>
<script nonce="${nonce}">
const cfg = ${data};
const shown = { scanning: 'scanning', ready: 'checked: your download starts', blocked: 'blocked', failed: 'could not be checked' };
let misses = 0;
async function poll() {
  try {
    const r = await fetch(cfg.statusUrl, { cache: 'no-store', headers: { accept: 'application/json' } });
    // with several proxy workers a poll may reach one that does not hold this file: ask again
    if (r.status === 404 || r.status === 403) {
      if (++misses > 10) { document.getElementById('state').textContent = 'this link has expired'; return; }
      setTimeout(poll, cfg.pollMs);
      return;
    }
    misses = 0;
    const s = await r.json();
    document.getElementById('bar').value = s.receivedBytes;
    document.getElementById('got').textContent = s.receivedBytes;
    document.getElementById('state').textContent = shown[s.state] || s.state;
    if (s.state !== 'scanning') { location.href = cfg.fileUrl; return; }
  } catch (e) { /* the proxy is busy: try again */ }
  setTimeout(poll, cfg.pollMs);
}
setTimeout(poll, cfg.pollMs);
</script></body></html>
`;
  return {
    status: 200,
    headers: {
      ...COMMON,
      'content-type': 'text/html; charset=utf-8',
      'referrer-policy': 'no-referrer',
      'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; frame-ancestors 'none'`,
    },
    body: Buffer.from(html, 'utf8'),
  };
}

/** The status document: 202 with Retry-After while scanning (the first answer too), 200 once settled. */
export function renderPatienceStatus(s: PatienceStatus, pollMs: number): RenderedPatience {
  const scanning = s.state === 'scanning';
  const headers: Record<string, string> = { ...COMMON, 'content-type': 'application/json; charset=utf-8' };
  if (scanning) headers['retry-after'] = String(Math.max(1, Math.ceil(pollMs / 1000)));
  return { status: scanning ? 202 : 200, headers, body: Buffer.from(JSON.stringify(s), 'utf8') };
}
