// A small HTTP(S) client for the admin listener as a browser would use it: a cookie jar fed by
// Set-Cookie (name=value only; the attributes are checked by the tests), explicit Origin and
// other headers, form bodies, and the raw Set-Cookie lines of each answer.
import http from 'node:http';
import https from 'node:https';

export interface AdminResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  setCookies: string[];
  body: string;
}

export class AdminClient {
  readonly base: string;
  readonly jar = new Map<string, string>();
  readonly #ca: string | undefined;

  constructor(base: string, ca?: string) {
    this.base = base;
    this.#ca = ca;
  }

  get cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  request(method: string, path: string, options: { headers?: Record<string, string>; form?: Record<string, string>; cookies?: boolean } = {}): Promise<AdminResponse> {
    const url = new URL(path, this.base);
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    const headers: Record<string, string> = { ...options.headers };
    if (options.cookies !== false && this.jar.size > 0) headers.cookie = this.cookieHeader;
    if (body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: false, ...(this.#ca ? { ca: this.#ca } : {}) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const setCookies = res.headers['set-cookie'] ?? [];
          for (const line of setCookies) {
            const [pair = '', ...attrs] = line.split(';');
            const eq = pair.indexOf('=');
            const name = pair.slice(0, eq).trim();
            if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.jar.delete(name);
            else this.jar.set(name, pair.slice(eq + 1).trim());
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, setCookies, body: text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string, headers: Record<string, string> = {}): Promise<AdminResponse> {
    return this.request('GET', path, { headers });
  }

  /** The login form's hidden token, after GET /login. */
  static csrf(html: string): string {
    const m = /name="csrf" value="([^"]*)"/.exec(html);
    if (!m) throw new Error('no csrf field in the page');
    return m[1]!;
  }

  /** Sign in through the form as a browser on this origin does; the final answer (303). */
  async signIn(user: string, password: string, next?: string): Promise<AdminResponse> {
    const form = await this.get(next ? `/login?next=${encodeURIComponent(next)}` : '/login', { accept: 'text/html' });
    return this.request('POST', next ? `/login?next=${encodeURIComponent(next)}` : '/login', {
      headers: { origin: new URL(this.base).origin, 'sec-fetch-site': 'same-origin' },
      form: { csrf: AdminClient.csrf(form.body), user, password },
    });
  }
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
