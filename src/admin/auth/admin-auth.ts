// Who may read incidents: the admin users of the config (scrypt hashes from `dlp-proxy
// hash-password`, checked by the proxy's own verifier, ProxyAuthenticator), signed in by the login
// form (a session cookie) or by HTTP Basic on each request (RFC 7617, for API clients). Users are
// read on every request, so a reload that removes a user or replaces a hash takes effect at once,
// open sessions included. Failed attempts are limited per client (LoginLimiter) before scrypt
// runs; an unknown name costs the same scrypt as a known one (a decoy hash), so timing does not
// tell which names exist.
import crypto from 'node:crypto';
import { hashPassword, ProxyAuthenticator, type ProxyUser } from '../../proxy/index.js';
import { cookieNames, parseCookies, serializeCookie, type CookieNames } from './cookies.js';
import { LoginLimiter } from './login-limiter.js';
import { randomToken, SessionStore, type AdminSession } from './session-store.js';

export type AdminUser = ProxyUser;

export interface AdminAuthOptions {
  /** admin.users in force (read per request) */
  users(): readonly AdminUser[];
  /** admin.sessionTtlMs in force */
  sessionTtlMs(): number;
  /** the listener is served over TLS: cookies are Secure and __Host- prefixed */
  secure: boolean;
  /** failed attempts per client before it has to wait; default 5 in 15 minutes */
  maxFailures?: number;
  failureWindowMs?: number;
}

export type SignIn = { ok: true; user: string } | { ok: false; retryAfterMs: number };

const REALM = 'dlp-proxy admin';

function fingerprint(passwordHash: string): string {
  return crypto.createHash('sha256').update(passwordHash).digest('base64url');
}

function basicHeader(name: string, password: string): string {
  return `Basic ${Buffer.from(`${name}:${password}`, 'utf8').toString('base64')}`;
}

export class AdminAuth {
  readonly cookies: CookieNames;
  readonly challenge = `Basic realm="${REALM}", charset="UTF-8"`;
  readonly #options: AdminAuthOptions;
  readonly #sessions = new SessionStore();
  readonly #limiter: LoginLimiter;
  #users: readonly AdminUser[] | undefined;
  #verifier = new ProxyAuthenticator(REALM, []);
  /** a verifier of one nameless user whose hash has the cost of the configured ones */
  #decoy: Promise<ProxyAuthenticator> | undefined;

  constructor(options: AdminAuthOptions) {
    this.#options = options;
    this.cookies = cookieNames(options.secure);
    this.#limiter = new LoginLimiter({ maxFailures: options.maxFailures ?? 5, windowMs: options.failureWindowMs ?? 15 * 60_000 });
  }

  /** At least one admin user is configured; with none, the incident pages stay closed. */
  get configured(): boolean {
    return this.#options.users().length > 0;
  }

  /** Check a name and password (login form); counts a failure against the client. */
  async signIn(name: string, password: string, clientIp: string | undefined): Promise<SignIn> {
    return this.#attempt(name, password, clientIp);
  }

  /** An Authorization header: undefined when it is not Basic (or absent), else the outcome. */
  async basic(header: string | undefined, clientIp: string | undefined): Promise<SignIn | undefined> {
    const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]*)\s*$/i.exec(header);
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // RFC 7617 §2: user-id ":" password; without a colon it is a failed attempt like any other
    return colon < 0 ? this.#attempt(decoded, '', clientIp, false) : this.#attempt(decoded.slice(0, colon), decoded.slice(colon + 1), clientIp);
  }

  /** A new session for a user who just signed in: the Set-Cookie value and the session. */
  startSession(user: string): { setCookie: string; session: AdminSession } {
    const entry = this.#currentUsers().find((u) => u.name === user);
    const ttlMs = this.#options.sessionTtlMs();
    const { id, session } = this.#sessions.create(user, entry ? fingerprint(entry.passwordHash) : '', ttlMs);
    return { setCookie: serializeCookie(this.cookies.session, id, { secure: this.#options.secure, maxAgeSeconds: ttlMs / 1000 }), session };
  }

  /** The session a Cookie header names, if it is live and its user is still configured with the same hash. */
  session(cookieHeader: string | undefined): AdminSession | undefined {
    const id = parseCookies(cookieHeader).get(this.cookies.session);
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const entry = this.#currentUsers().find((u) => u.name === session.user);
    if (!entry || fingerprint(entry.passwordHash) !== session.credential) {
      this.#sessions.destroy(id);
      return undefined;
    }
    return session;
  }

  /** End the session a Cookie header names; the Set-Cookie value that deletes the cookie. */
  endSession(cookieHeader: string | undefined): string {
    this.#sessions.destroy(parseCookies(cookieHeader).get(this.cookies.session));
    return serializeCookie(this.cookies.session, '', { secure: this.#options.secure, maxAgeSeconds: 0 });
  }

  /** The login form's CSRF token (double submit: the same value in a cookie and in the form). */
  loginToken(cookieHeader: string | undefined): { token: string; setCookie?: string } {
    const existing = parseCookies(cookieHeader).get(this.cookies.login);
    if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return { token: existing };
    const token = randomToken();
    return { token, setCookie: serializeCookie(this.cookies.login, token, { secure: this.#options.secure, maxAgeSeconds: 3600 }) };
  }

  /** The login token of the cookie, to compare with the form's. */
  loginCookie(cookieHeader: string | undefined): string | undefined {
    return parseCookies(cookieHeader).get(this.cookies.login);
  }

  /** Set-Cookie value deleting the login token once it served. */
  clearLoginToken(): string {
    return serializeCookie(this.cookies.login, '', { secure: this.#options.secure, maxAgeSeconds: 0 });
  }

  async #attempt(name: string, password: string, clientIp: string | undefined, wellFormed = true): Promise<SignIn> {
    const wait = this.#limiter.retryAfterMs(clientIp);
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    const users = this.#currentUsers();
    let user: string | undefined;
    if (wellFormed && users.some((u) => u.name === name)) user = await this.#verifier.authenticate(basicHeader(name, password));
    else await (await this.#decoyVerifier()).authenticate(basicHeader('', password));
    if (user === undefined) {
      this.#limiter.fail(clientIp);
      return { ok: false, retryAfterMs: this.#limiter.retryAfterMs(clientIp) };
    }
    this.#limiter.succeed(clientIp);
    return { ok: true, user };
  }

  /** The configured users; a new list (a reload) gets a new verifier, so no cached success outlives its hash. */
  #currentUsers(): readonly AdminUser[] {
    const users = this.#options.users();
    if (users !== this.#users) {
      this.#users = users;
      this.#verifier = new ProxyAuthenticator(REALM, users);
      this.#decoy = undefined;
    }
    return users;
  }

  #decoyVerifier(): Promise<ProxyAuthenticator> {
    const [, n, r, p] = (this.#users?.[0]?.passwordHash ?? '').split('$');
    const cost = { N: Number(n) || 16384, r: Number(r) || 8, p: Number(p) || 1 };
    this.#decoy ??= hashPassword(randomToken(), cost).then((passwordHash) => new ProxyAuthenticator(REALM, [{ name: '', passwordHash }]));
    return this.#decoy;
  }
}
