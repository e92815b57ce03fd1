// /login (GET the form, POST the credentials), /logout (POST), and the gate in front of every
// incident page and API call: a live session, or HTTP Basic on the request, or nothing. Without a
// session a page request from a browser is sent to the form and comes back after it; any other
// request is answered 401 with a Basic challenge (RFC 9110 §11.6.1). Failed attempts of both kinds
// count against the client (LoginLimiter): past the limit, 429 with Retry-After (RFC 6585 §4).
import type http from 'node:http';
import { pageHeaders, renderLayout, h } from '../incidents/page-layout.js';
import { jsonAnswer, seeOther, textAnswer, type AdminAnswer } from '../incidents/admin-answer.js';
import type { AdminAuth } from './admin-auth.js';
import { allowedOrigins, checkOrigin, tokensEqual } from './csrf.js';
import { readForm } from './form-body.js';
import { renderLoginPage, safeNext } from './login-page.js';

/** Who is asking: a session's user (with its forms' token) or a Basic client's. */
export interface Caller {
  user: string;
  csrfToken?: string;
}

export interface SignInContext {
  auth: AdminAuth;
  secure: boolean;
  publicUrl: string | undefined;
}

function page(status: number, html: string, headers: Record<string, string | string[]> = {}): AdminAnswer {
  return { status, type: 'text/html; charset=utf-8', body: html, headers: { ...pageHeaders(), ...headers } };
}

function retryAfter(ms: number): string {
  return String(Math.ceil(ms / 1000));
}

function wantsPage(req: http.IncomingMessage): boolean {
  return req.headers['sec-fetch-mode'] === 'navigate' || /\btext\/html\b/.test(req.headers.accept ?? '');
}

/** Let the request through (its caller), or the answer that refuses it. */
export async function authenticate(ctx: SignInContext, req: http.IncomingMessage, api: boolean): Promise<Caller | AdminAnswer> {
  const session = ctx.auth.session(req.headers.cookie);
  if (session) return { user: session.user, csrfToken: session.csrfToken };
  const basic = await ctx.auth.basic(req.headers.authorization, req.socket.remoteAddress);
  if (basic?.ok) return { user: basic.user };
  if (basic && basic.retryAfterMs > 0) return refusedTooOften(api, basic.retryAfterMs);
  if (!api && !basic && wantsPage(req)) return seeOther(`/login?${new URLSearchParams({ next: req.url ?? '/incidents' }).toString()}`);
  const challenge = { 'www-authenticate': ctx.auth.challenge };
  return api ? jsonAnswer(401, { error: 'unauthorized', message: 'sign in at /login or send HTTP Basic credentials of an admin user' }, challenge) : textAnswer(401, 'sign in at /login or send HTTP Basic credentials of an admin user\n', challenge);
}

function refusedTooOften(api: boolean, ms: number): AdminAnswer {
  const message = `too many failed sign-ins from this address: try again in ${retryAfter(ms)} seconds`;
  return api ? jsonAnswer(429, { error: 'too_many_attempts', message }, { 'retry-after': retryAfter(ms) }) : textAnswer(429, `${message}\n`, { 'retry-after': retryAfter(ms) });
}

export async function loginRoute(ctx: SignInContext, req: http.IncomingMessage, params: URLSearchParams): Promise<AdminAnswer> {
  const next = safeNext(params.get('next'));
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (ctx.auth.session(req.headers.cookie)) return seeOther(next ?? '/incidents');
    const { token, setCookie } = ctx.auth.loginToken(req.headers.cookie);
    const site = req.headers['sec-fetch-site'];
    return page(200, renderLoginPage({ token, next, offerContinue: site !== 'none' && site !== 'same-origin' }), setCookie ? { 'set-cookie': setCookie } : {});
  }
  if (req.method !== 'POST') return { ...textAnswer(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD, POST' } };

  const origin = checkOrigin(req.headers, allowedOrigins(req.headers.host, ctx.secure, ctx.publicUrl));
  if (!origin.ok) {
    req.resume();
    return page(403, renderLayout({ title: 'Refused', body: `<h1>Refused</h1><p class="error" id="csrf-refused">This form was not sent from this admin listener (${h(origin.reason)}).</p><p><a href="/login">Sign in</a></p>` }));
  }
  const body = await readForm(req);
  if (!body.ok) return textAnswer(body.status, `${body.reason}\n`);
  const { token, setCookie } = ctx.auth.loginToken(req.headers.cookie);
  const again = (status: number, error: string, extra: Record<string, string> = {}) =>
    page(status, renderLoginPage({ token, next, error, user: body.form.get('user') ?? '' }), { ...(setCookie ? { 'set-cookie': setCookie } : {}), ...extra });
  if (setCookie || !tokensEqual(body.form.get('csrf') ?? undefined, ctx.auth.loginCookie(req.headers.cookie))) {
    return again(403, 'This sign-in form expired or was not ours: please sign in again.');
  }
  const name = body.form.get('user') ?? '';
  const password = body.form.get('password') ?? '';
  if (name === '' || password === '' || name.length > 256 || password.length > 1024) return again(400, 'Enter a user name and a password.');
  const result = await ctx.auth.signIn(name, password, req.socket.remoteAddress);
  if (!result.ok) {
    return result.retryAfterMs > 0
      ? again(429, `Too many failed sign-ins from this address: try again in ${Math.ceil(result.retryAfterMs / 60_000)} minutes.`, { 'retry-after': retryAfter(result.retryAfterMs) })
      : again(403, 'Wrong user name or password.');
  }
  const { setCookie: sessionCookie } = ctx.auth.startSession(result.user);
  return seeOther(next ?? '/incidents', { 'set-cookie': [sessionCookie, ctx.auth.clearLoginToken()] });
}

export async function logoutRoute(ctx: SignInContext, req: http.IncomingMessage): Promise<AdminAnswer> {
  if (req.method !== 'POST') return { ...textAnswer(405, 'method not allowed\n'), headers: { allow: 'POST' } };
  const origin = checkOrigin(req.headers, allowedOrigins(req.headers.host, ctx.secure, ctx.publicUrl));
  const body = origin.ok ? await readForm(req) : undefined;
  if (!origin.ok) req.resume();
  const session = ctx.auth.session(req.headers.cookie);
  // without a live session there is nothing to end (and nothing a forged form could do)
  if (!session) return seeOther('/login', { 'set-cookie': ctx.auth.endSession(req.headers.cookie) });
  if (!origin.ok || !body?.ok || !tokensEqual(body.form.get('csrf') ?? undefined, session.csrfToken)) {
    return textAnswer(403, 'refused: log out with the button of an incident page\n');
  }
  return seeOther('/login', { 'set-cookie': ctx.auth.endSession(req.headers.cookie) });
}
