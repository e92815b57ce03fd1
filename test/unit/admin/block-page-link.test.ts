// The block page's incident number links to the admin listener's incident page once the admin
// reports are configured (linkIncidents with incidentLinkBase); otherwise it is plain text.
import { afterEach, describe, expect, it } from 'vitest';
import { incidentLinkBase } from '../../../src/admin/incidents/reports-options.js';
import { parseConfig } from '../../../src/config/index.js';
import { linkIncidents, renderPage } from '../../../src/enforce/render-page.js';

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const block = { host: 'files.example.com', direction: 'upload' as const, incidentId: '01jtfz1yk8ab3xyz', violations: ['payment-card'], rule: 'uploads' };

afterEach(() => linkIncidents(undefined));

describe('block page incident link', () => {
  it('without admin reports the number is no link and the JSON has no URL', () => {
    const html = renderPage('block', block, undefined).body.toString();
    expect(html).toContain('<p class="incident"><span>Incident number</span><strong>01jtfz1yk8ab3xyz</strong></p>');
    expect(html).not.toMatch(/<a\b/);
    expect(JSON.parse(renderPage('block', block, 'application/json').body.toString())).not.toHaveProperty('incidentUrl');
  });

  it('with them, the number opens the incident page (HTML and JSON)', () => {
    linkIncidents('http://127.0.0.1:9090/incidents/');
    const html = renderPage('block', block, undefined).body.toString();
    expect(html).toContain('<a id="incident-link" href="http://127.0.0.1:9090/incidents/01jtfz1yk8ab3xyz" rel="noreferrer">');
    expect(JSON.parse(renderPage('block', block, 'application/json').body.toString())).toMatchObject({ incidentUrl: 'http://127.0.0.1:9090/incidents/01jtfz1yk8ab3xyz' });
  });

  it('an id is encoded in the URL and escaped in the page', () => {
    linkIncidents('https://dlp-admin.example.com/incidents/');
    const html = renderPage('block', { ...block, incidentId: '"><x y="/?#' }, undefined).body.toString();
    expect(html).toContain('href="https://dlp-admin.example.com/incidents/%22%3E%3Cx%20y%3D%22%2F%3F%23"');
    expect(html).not.toContain('<x y=');
  });

  it("an operator's template without the link renders the same either way", async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { configurePages } = await import('../../../src/enforce/render-page.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'block-template-'));
    try {
      const file = path.join(dir, 'page.html');
      fs.writeFileSync(file, '<p>{{incidentId}}</p>');
      await configurePages({ template: file, contact: 'x' });
      linkIncidents('http://127.0.0.1:9090/incidents/');
      expect(renderPage('block', block, undefined).body.toString()).toBe('<p>01jtfz1yk8ab3xyz</p>');
    } finally {
      await configurePages({ template: 'config/block-page.html', contact: 'your IT helpdesk' });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('incidentLinkBase', () => {
  const admin = (over: Record<string, unknown>) => parseConfig({ admin: { users: [{ name: 'soc', passwordHash: HASH }], ...over } }, 'test').admin;

  it('is admin.publicUrl when set, else the listener by its bound address and port', () => {
    expect(incidentLinkBase(admin({ publicUrl: 'https://dlp-admin.example.com:8443/' }), 9090)).toBe('https://dlp-admin.example.com:8443/incidents/');
    expect(incidentLinkBase(admin({ publicUrl: 'https://dlp-admin.example.com' }), 9090)).toBe('https://dlp-admin.example.com/incidents/');
    expect(incidentLinkBase(admin({}), 41234)).toBe('http://127.0.0.1:41234/incidents/');
    expect(incidentLinkBase(admin({ host: '::1' }), 9090)).toBe('http://[::1]:9090/incidents/');
    expect(incidentLinkBase(admin({ tls: { cert: 'c.pem', key: 'k.pem' } }), 443)).toBe('https://127.0.0.1/incidents/');
  });

  it('is nothing when nobody could open the page, or no address is known', () => {
    expect(incidentLinkBase(parseConfig({}, 'test').admin, 9090)).toBeUndefined();
    expect(incidentLinkBase(admin({ enabled: false }), 9090)).toBeUndefined();
    expect(incidentLinkBase({ ...admin({}), host: '0.0.0.0' }, 9090)).toBeUndefined();
  });
});
