// The admin listener's cookies (RFC 6265bis). Always HttpOnly (no script reads them; the pages
// have none anyway) and SameSite=Strict (never sent with a request another site starts, §5.6.7.1).
// Over TLS also Secure, under the __Host- prefix (§4.1.3.2: Secure, Path=/, no Domain, so no other
// host or plain-http page can set or shadow them). On a plain-http listener, which the config
// allows only on loopback, Secure is left out: a browser stores a Secure cookie from an http://
// answer only for "localhost" (§5.7 step 16), so 127.0.0.1 would never keep a session, and loopback
// traffic does not cross a network where Secure would protect it.

export interface CookieNames {
  session: string;
  login: string;
}

export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}dlp-admin-session`, login: `${prefix}dlp-admin-login` };
}

/** Name → value of a Cookie header; the first of duplicate names wins (RFC 6265bis §5.7.3 orders longer paths first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (name !== '' && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** A Set-Cookie value; `maxAgeSeconds` 0 deletes it. Values are ours (base64url), never echoed input. */
export function serializeCookie(name: string, value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
