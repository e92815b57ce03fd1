// Cross-site request forgery defences for the admin listener's forms (OWASP CSRF cheat sheet):
// every POST must come from one of our own pages, which both of these check independently.
// 1. The request's origin: Sec-Fetch-Site, when the browser sends it, must be same-origin; the
//    Origin header (RFC 6454 §7; browsers send it with every POST), or failing that the Referer,
//    must be this listener as the client reached it (scheme of the listener + Host) or
//    admin.publicUrl. A missing or "null" origin is refused.
// 2. A token: the login form carries the value of a login cookie (double submit), every form
//    of a signed-in page the session's own token (synchronizer token).
// Pages change nothing on GET, so only POSTs are checked. SameSite=Strict cookies are a third,
// browser-side layer.
import crypto from 'node:crypto';
import type http from 'node:http';

/** The origins a form may be posted from: this listener by its Host header, and the public URL. */
export function allowedOrigins(host: string | undefined, secure: boolean, publicUrl: string | undefined): string[] {
  const out: string[] = [];
  const own = originOf(`${secure ? 'https' : 'http'}://${host ?? ''}`);
  if (own && host) out.push(own);
  const configured = publicUrl === undefined ? undefined : originOf(publicUrl);
  if (configured) out.push(configured);
  return out;
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    // a Host header with a path, user info or query is no origin
    if (parsed.username !== '' || parsed.password !== '') return undefined;
    return parsed.origin;
  } catch {
    return undefined;
  }
}

export type OriginCheck = { ok: true } | { ok: false; reason: string };

export function checkOrigin(headers: http.IncomingHttpHeaders, allowed: readonly string[]): OriginCheck {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return { ok: false, reason: `Sec-Fetch-Site: ${site}` };
  const origin = headers.origin;
  if (origin !== undefined) {
    const normalised = origin === 'null' ? undefined : originOf(origin);
    return normalised !== undefined && normalised === origin.toLowerCase().replace(/\/$/, '') && allowed.includes(normalised)
      ? { ok: true }
      : { ok: false, reason: 'Origin is not this admin listener' };
  }
  const referer = headers.referer;
  const from = referer === undefined ? undefined : originOf(referer);
  if (from === undefined) return { ok: false, reason: 'neither Origin nor Referer' };
  return allowed.includes(from) ? { ok: true } : { ok: false, reason: 'Referer is not this admin listener' };
}

/** Compare two secrets without leaking where they differ (digests first: equal lengths). */
export function tokensEqual(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '' || b === '') return false;
  const da = crypto.createHash('sha256').update(a).digest();
  const db = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(da, db);
}
