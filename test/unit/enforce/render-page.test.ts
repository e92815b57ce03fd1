import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configurePages, prefersJson, renderPage } from '../../../src/enforce/index.js';

const time = new Date(Date.UTC(2025, 4, 6, 7, 8, 9));
const block = {
  host: 'files.example.com',
  direction: 'upload' as const,
  incidentId: '01jtfz1yk8ab3xyz',
  violations: ['Credit card number', '<img src=x onerror=alert(1)>'],
  reason: 'DLP "card" match',
  rule: 'uploads',
  time,
};

describe('prefersJson', () => {
  it.each<[string | undefined, string | undefined, boolean]>([
    [undefined, undefined, false],
    ['*/*', undefined, false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined, false], // a browser navigation
    ['application/json', undefined, true],
    ['application/json, text/plain, */*', undefined, true], // axios
    ['application/problem+json', undefined, true],
    ['application/*', undefined, true],
    ['text/html;q=0.5, application/json;q=0.9', undefined, true],
    ['application/json;q=0.1, text/html', undefined, false],
    ['*/*', 'application/json', true], // fetch() posting JSON
    ['*/*', 'application/vnd.api+json; charset=utf-8', true],
    ['*/*', 'multipart/form-data; boundary=x', false],
    [undefined, 'application/json', true],
    ['text/html', 'application/json', false],
  ])('Accept %s, request %s → %s', (accept, contentType, expected) => expect(prefersJson(accept, contentType)).toBe(expected));
});

describe('renderPage: block', () => {
  const page = renderPage('block', block, 'text/html');
  const html = page.body.toString();

  it('is a 403 that is never cached and carries the incident id', () => {
    expect(page.status).toBe(403);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-dlp-incident': '01jtfz1yk8ab3xyz',
      'content-length': String(page.body.length),
    });
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('says what happened, why, when, which incident and whom to contact', () => {
    expect(html).toContain('Your upload to files.example.com was blocked');
    expect(html).toContain('not allow to be sent to this website');
    expect(html).toContain('Credit card number');
    expect(html).toContain('01jtfz1yk8ab3xyz');
    expect(html).toContain('Tue, 06 May 2025 07:08:09 GMT');
    expect(html).toContain('your IT helpdesk');
    expect(html).toContain('Nothing was sent.');
  });

  it('escapes every value', () => {
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('is self-contained: no external resource, no script, no placeholder left', () => {
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/<[a-z][^>]*\s(src|href)=/i);
    expect(html).not.toContain('{{');
  });

  it('speaks of a download for the response side', () => {
    const d = renderPage('block', { ...block, direction: 'download', violations: ['Eicar-Test-Signature'] }, undefined).body.toString();
    expect(d).toContain('Your download from files.example.com was blocked');
    expect(d).toContain('Nothing was downloaded.');
  });

  it('falls back to the reason when the server named no violation', () => {
    const d = renderPage('block', { ...block, violations: [], reason: 'Content blocked due to policy violation' }, undefined).body.toString();
    expect(d).toContain('Content blocked due to policy violation');
  });

  it('renders JSON for API clients with the same facts', () => {
    const p = renderPage('block', block, 'application/json');
    expect(p.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(p.headers['x-dlp-incident']).toBe(block.incidentId);
    expect(JSON.parse(p.body.toString())).toEqual({
      error: 'blocked',
      message: 'Your upload to files.example.com was blocked',
      reason: 'DLP "card" match',
      violations: block.violations,
      host: 'files.example.com',
      direction: 'upload',
      incidentId: block.incidentId,
      rule: 'uploads',
      time: 'Tue, 06 May 2025 07:08:09 GMT',
      contact: 'your IT helpdesk',
    });
  });
});

describe('renderPage: unavailable and error', () => {
  it('unavailable is a 503 saying nothing was sent', () => {
    const p = renderPage('unavailable', { host: 'files.example.com', direction: 'upload', incidentId: 'abc', time }, undefined);
    expect(p.status).toBe(503);
    expect(p.headers['x-dlp-incident']).toBe('abc');
    const html = p.body.toString();
    expect(html).toContain('Your upload to files.example.com could not be checked');
    expect(html).toContain('scanning service was unavailable, so nothing was sent');
  });

  it('accepts the pipeline\'s error fields for unavailable (status, code, host)', () => {
    const p = renderPage('unavailable', { status: 503, code: 'ICAP_CONNECT_FAILED', host: undefined }, 'application/json');
    expect(JSON.parse(p.body.toString())).toMatchObject({ error: 'scan_unavailable', code: 'ICAP_CONNECT_FAILED', host: null });
  });

  it.each([
    [502, 'UPSTREAM_CONNECT_FAILED', 'files.example.com could not be reached'],
    [502, 'UPSTREAM_DNS_FAILED', 'The address of files.example.com could not be found'],
    [502, 'UPSTREAM_TLS_FAILED', 'A secure connection to files.example.com could not be established'],
    [504, 'UPSTREAM_HEADERS_TIMEOUT', 'files.example.com took too long to answer'],
  ])('error %i %s', (status, code, headline) => {
    const p = renderPage('error', { status, code, host: 'files.example.com' }, undefined);
    expect(p.status).toBe(status);
    expect(p.headers['x-dlp-incident']).toBeUndefined();
    const html = p.body.toString();
    expect(html).toContain(headline);
    expect(html).toContain(code);
  });

  it('an out-of-range status becomes 502', () => {
    expect(renderPage('error', { status: 200, code: 'INTERNAL' }, undefined).status).toBe(502);
  });
});

describe('configurePages', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pages-'));
  afterAll(async () => {
    await configurePages({ template: 'config/block-page.html', contact: 'your IT helpdesk' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses the operator\'s template and contact, still escaping', async () => {
    const file = path.join(dir, 'mine.html');
    fs.writeFileSync(file, '<p>{{headline}} / {{violations}} / {{contact}} / {{unknown}}</p>');
    await configurePages({ template: file, contact: 'Security <sec@example.com>' });
    const html = renderPage('block', block, undefined).body.toString();
    expect(html).toBe(
      '<p>Your upload to files.example.com was blocked / Credit card number, &lt;img src=x onerror=alert(1)&gt; / Security &lt;sec@example.com&gt; / </p>',
    );
  });

  it('a missing operator template is a config error', async () => {
    await expect(configurePages({ template: path.join(dir, 'missing.html'), contact: 'x' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
