// The report pages as HTML strings: every value from traffic escaped (a hostile host, path, user,
// rule or violation name can neither add markup nor break out of an attribute nor hide behind
// invisible characters), links built from encoded parameters, the chart drawn for every day.
import { describe, expect, it } from 'vitest';
import { axisTicks, renderBarChart, niceMax } from '../../../src/admin/incidents/bar-chart.js';
import { renderIncidentDetail } from '../../../src/admin/incidents/incident-detail-page.js';
import { parseFilters } from '../../../src/admin/incidents/incident-filters.js';
import { renderIncidentList } from '../../../src/admin/incidents/incident-list-page.js';
import { h, renderLayout, visible } from '../../../src/admin/incidents/page-layout.js';
import { everyDay, renderSummary } from '../../../src/admin/incidents/summary-page.js';
import { renderLoginPage } from '../../../src/admin/auth/login-page.js';
import { incident } from '../../support/memory-incident-reader.js';

const HOSTILE = {
  host: 'evil.example"><script>alert(1)</script>',
  path: "/x'><img src=x onerror=alert(2)>/\u202egnp.exe",
  user: '<b>mallory</b>&amp;',
  rule: '"rule" onmouseover="alert(3)',
  violations: ['</td><script>alert(4)</script>', 'javascript:alert(5)'],
  client: '10.0.0.1\u0000<x>',
  method: 'PO<ST',
  istag: '"tag"<i>',
  reason: '<iframe src=//evil>',
  sha256: '"><svg onload=alert(6)>',
};

/** No markup of the hostile values survived: only our own tags are in the page. */
function expectInert(html: string): void {
  expect(html).not.toMatch(/<script|<img|<iframe|<svg onload|<b>mallory|<i>|<x>/i);
  expect(html).not.toMatch(/\son\w+="alert/i);
  expect(html).not.toContain('\u202e');
  expect(html).not.toContain('\u0000');
  // every attribute value we write is double-quoted: a raw " inside one would end it
  for (const [, value] of html.matchAll(/\s(?:href|value|id|class|aria-label)="([^"]*)"/g)) expect(value).not.toMatch(/[<>]/);
}

const form = parseFilters(new URLSearchParams('user=<script>'), { defaultLimit: 50, maxLimit: 200 }).form;

describe('escaping of values from traffic', () => {
  it('h() escapes markup and quotes, and shows invisible characters', () => {
    expect(h('<a href="x">\'&')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
    expect(visible('abc\u202edef\u200b\u0007\n')).toBe('abc\\u{202e}def\\u{200b}\\u{7}\\u{a}');
    expect(h(undefined)).toBe('');
    expect(h(0)).toBe('0');
  });

  it('the incident list', () => {
    const r = incident(HOSTILE);
    const html = renderIncidentList({ items: [r], total: 1, next: { time: r.time, incident: r.incident, seq: 7 } }, form, true);
    expectInert(html);
    expect(html).toContain('evil.example&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('\\u{202e}gnp.exe');
    // the filter form echoes the user filter escaped
    expect(html).toContain('value="&lt;script&gt;"');
    // links carry hostile values URL-encoded (then escaped): a filter link, the older page, the incident
    expect(html).toContain('href="/incidents?user=%3Cscript%3E&amp;host=evil.example%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"');
    expect(html).toMatch(/id="older" href="\/incidents\?user=%3Cscript%3E&amp;before=[^"]+%2C7"/);
    expect(html).toContain(`href="/incidents/${r.incident}"`);
  });

  it('the incident page, with every field', () => {
    const r = incident(HOSTILE);
    const html = renderIncidentDetail(r, [r, { ...r, action: 'monitor', direction: 'download' }]);
    expectInert(html);
    expect(html).toContain('&lt;iframe src=//evil&gt;');
    expect(html).toContain('All 2 records of this incident');
    expect(html).toContain(`href="/api/incidents/${r.incident}"`);
  });

  it('the summary', () => {
    const html = renderSummary(
      {
        from: '2024-05-01T00:00:00.000Z',
        to: '2024-05-04T00:00:00.000Z',
        perDay: [{ day: '2024-05-02', count: 3 }],
        topUsers: [{ key: HOSTILE.user, count: 2 }],
        topHosts: [{ key: HOSTILE.host, count: 3 }],
        topRules: [{ key: HOSTILE.rule, count: 3 }],
        topViolations: HOSTILE.violations.map((v) => ({ key: v, count: 1 })),
        total: 3,
      },
      { from: '2024-05-01', to: '2024-05-03', top: '10' },
    );
    expectInert(html);
    expect(html).toContain('from 2024-05-01 to 2024-05-03 (UTC)');
    // top entries link to the list of the same period filtered by them
    expect(html).toContain('href="/incidents?from=2024-05-01&amp;to=2024-05-03&amp;host=evil.example%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"');
  });

  it('the layout and the login page (user names and next are escaped too)', () => {
    const page = renderLayout({ title: '<t>', user: '"><script>', csrfToken: '"tok"', body: '' });
    expectInert(page);
    expect(page).toContain('<title>&lt;t&gt; · dlp-proxy</title>');
    expect(page).toContain('name="csrf" value="&quot;tok&quot;"');
    const login = renderLoginPage({ token: 't', next: '/incidents?user="><script>', error: '<b>x</b>', user: '"><script>', offerContinue: true });
    expectInert(login);
    expect(login).not.toMatch(/<script/i);
    expect(login).toContain('id="continue"');
    expect(renderLoginPage({ token: 't', next: '/incidents' })).not.toContain('id="continue"');
  });
});

describe('per-day chart', () => {
  it('draws every day of the period, zero when the store lists none', () => {
    const days = everyDay({ from: '2024-05-01T00:00:00.000Z', to: '2024-05-04T00:00:00.000Z', perDay: [{ day: '2024-05-02', count: 7 }] });
    expect(days).toEqual([
      { label: '2024-05-01', value: 0 },
      { label: '2024-05-02', value: 7 },
      { label: '2024-05-03', value: 0 },
    ]);
    const svg = renderBarChart(days, 'Incidents per day');
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(3);
    expect(svg).toContain('<title>2024-05-02: 7</title>');
    expect(svg).toContain('role="img" aria-label="Incidents per day"');
    // the tallest bar fills the plot (max 7 → axis 10): 7/10 of 184 px
    expect(svg).toMatch(/height="128\.8"><title>2024-05-02: 7/);
  });

  it('an even axis in whole numbers', () => {
    expect([0, 1, 3, 7, 10, 11, 45, 120, 999].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 50, 200, 1000]);
    expect(axisTicks(1)).toEqual([0, 1]);
    expect(axisTicks(2)).toEqual([0, 1, 2]);
    expect(axisTicks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(axisTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(axisTicks(20)).toEqual([0, 5, 10, 15, 20]);
    expect(axisTicks(50)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(axisTicks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(axisTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    const svg = renderBarChart([{ label: '2024-05-01', value: 2 }], 'x');
    expect([...svg.matchAll(/text-anchor="end">(\d+)</g)].map((m) => m[1])).toEqual(['0', '1', '2']);
  });
});
