// The frame of every incident page: a title, the navigation, who is signed in with a logout form
// (carrying the session's CSRF token), and one stylesheet inline. No script, nothing loaded: the
// pages work without JavaScript and the CSP allows nothing else. Everything from traffic (host,
// path, user, rule and violation names) goes through `h`: HTML-escaped (the onboarding page's
// escaping, as the block page's templates) after making invisible characters visible, so a bidi
// override or a control character in a path cannot disguise what an analyst reads (CVE-2021-42574).
import { escapeHtml } from '../onboarding-page.js';

/** No script, no frames, forms only to ourselves, no <base>, styles inline (charts are inline SVG). */
export const REPORT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// C0 and C1 controls, the bidi embeddings, overrides, isolates and marks, zero-width characters,
// line and paragraph separators, the BOM
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/** Invisible characters as \u{…}, so they show instead of acting. */
export function visible(value: string): string {
  return value.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Any value, made visible and escaped for HTML text and double-quoted attributes. */
export function h(value: string | number | undefined | null): string {
  return value === undefined || value === null ? '' : escapeHtml(visible(String(value)));
}

/** A link to our own page with query parameters (values URL-encoded, then the whole href escaped). */
export function href(path: string, params?: URLSearchParams | Record<string, string>): string {
  const query = params === undefined ? '' : new URLSearchParams(params).toString();
  return escapeHtml(query === '' ? path : `${path}?${query}`);
}

export interface LayoutOptions {
  title: string;
  /** which navigation entry is current */
  current?: 'incidents' | 'summary';
  /** the signed-in user and the session's CSRF token (absent for Basic clients and the login page) */
  user?: string | undefined;
  csrfToken?: string | undefined;
  body: string;
}

const STYLE = `
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f5f7; color: #1f2328; }
  header { display: flex; gap: 1.25rem; align-items: center; padding: .6rem 1.5rem; background: #24292f; color: #fff; }
  header a { color: #fff; text-decoration: none; } header a[aria-current] { text-decoration: underline; text-underline-offset: .3em; }
  header .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; color: #d0d7de; }
  header form { margin: 0; } header button { font: inherit; background: none; border: 1px solid #8c959f; color: #fff; border-radius: 5px; padding: .15rem .6rem; cursor: pointer; }
  main { max-width: 78rem; margin: 1.25rem auto; padding: 1.25rem 1.5rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .5rem .9rem; align-items: end; margin-bottom: 1rem; }
  label { display: flex; flex-direction: column; font-size: .8rem; color: #57606a; gap: .15rem; }
  input, select { font: inherit; padding: .25rem .4rem; border: 1px solid #d0d7de; border-radius: 5px; color: #1f2328; }
  .actions { display: flex; gap: .6rem; align-items: center; }
  button.primary, a.button { font: inherit; background: #1f6feb; color: #fff; border: 0; border-radius: 5px; padding: .35rem .9rem; text-decoration: none; cursor: pointer; }
  table { border-collapse: collapse; width: 100%; font-size: .88rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
  th { background: #f6f8fa; font-weight: 600; }
  td.path, td.host, dd { word-break: break-all; }
  .mono, td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  .tag { display: inline-block; padding: 0 .4rem; border-radius: 4px; font-size: .8rem; font-weight: 600; }
  .block { background: #fdecea; color: #8a1c1c; } .monitor { background: #fff4d6; color: #6f4b00; }
  .meta { color: #57606a; font-size: .9rem; display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; }
  .pager { display: flex; gap: 1rem; margin-top: .9rem; }
  .error { background: #fdecea; color: #8a1c1c; padding: .6rem .9rem; border-radius: 6px; }
  .notice { background: #ddf4ff; padding: .6rem .9rem; border-radius: 6px; }
  dl.record { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; }
  dt { color: #57606a; } dd { margin: 0; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); gap: 1rem 1.5rem; }
  svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
  svg rect.bar { fill: #1f6feb; }
`;

export function renderLayout(o: LayoutOptions): string {
  const nav = (key: 'incidents' | 'summary', path: string, label: string) => `<a href="${path}"${o.current === key ? ' aria-current="page"' : ''}>${label}</a>`;
  const who =
    o.user === undefined
      ? ''
      : `<span class="who">Signed in as <strong id="signed-in-user">${h(o.user)}</strong>${
          o.csrfToken === undefined ? '' : `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${h(o.csrfToken)}"><button id="logout" type="submit">Log out</button></form>`
        }</span>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="same-origin">
<title>${h(o.title)} · dlp-proxy</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>dlp-proxy</strong>${o.user === undefined ? '' : `${nav('incidents', '/incidents', 'Incidents')}${nav('summary', '/incidents/summary', 'Summary')}`}${who}</header>
<main>
${o.body}
</main>
</body>
</html>
`;
}

/** The headers every report page is sent with. */
export function pageHeaders(): Record<string, string> {
  return { 'content-security-policy': REPORT_PAGE_CSP, 'referrer-policy': 'same-origin', 'x-frame-options': 'DENY' };
}
