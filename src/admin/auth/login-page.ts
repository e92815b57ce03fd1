// The sign-in form of the admin listener: user name, password, the login CSRF token and where to
// go next. Cookies are SameSite=Strict, so a person who follows a link from elsewhere (the block
// page's incident number) arrives without their session even when signed in: the page then offers
// a plain link to the page they asked for, which, followed from here, carries the session. It is
// left out when the browser says the visit began on this origin or by hand (Sec-Fetch-Site
// same-origin or none): then there was no session to leave behind.
import { h, href, renderLayout } from '../incidents/page-layout.js';

export interface LoginFields {
  token: string;
  /** the local page to open after signing in */
  next: string | undefined;
  /** offer `next` as a plain link too (the visit came from another site) */
  offerContinue?: boolean;
  error?: string | undefined;
  user?: string | undefined;
}

export function renderLoginPage(f: LoginFields): string {
  const body = `<h1>Sign in to see incidents</h1>
${f.error ? `<p class="error" id="login-error">${h(f.error)}</p>` : ''}
<form method="post" action="${href('/login', f.next ? { next: f.next } : undefined)}" id="login-form">
<input type="hidden" name="csrf" value="${h(f.token)}">
<p><label for="user">User name<input id="user" name="user" autocomplete="username" required value="${h(f.user ?? '')}"></label></p>
<p><label for="password">Password<input id="password" name="password" type="password" autocomplete="current-password" required></label></p>
<p><button class="primary" id="sign-in" type="submit">Sign in</button></p>
</form>
${f.next && f.offerContinue ? `<p class="meta" id="continue">Already signed in? <a href="${href(f.next)}">Continue to ${h(f.next)}</a></p>` : ''}`;
  return renderLayout({ title: 'Sign in', body });
}

/**
 * A `next` parameter we may redirect to: a path of the incident pages on this listener. Anything
 * else (another origin, //host, a backslash, a scheme) is an open redirect and is dropped.
 */
export function safeNext(value: string | null | undefined): string | undefined {
  if (!value || value.length > 2048 || !value.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, 'http://admin.invalid');
  } catch {
    return undefined;
  }
  if (url.origin !== 'http://admin.invalid') return undefined;
  if (url.pathname !== '/incidents' && !url.pathname.startsWith('/incidents/')) return undefined;
  return url.pathname + url.search;
}
