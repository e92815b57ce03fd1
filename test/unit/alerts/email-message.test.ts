// The alert mails' routing and text: which rule gets an incident, what one mail and a digest say,
// and that values from traffic (host, path, user, reason) cannot forge lines or reorder text.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clean, composeDigest, composeIncident } from '../../../src/alerts/email-message.js';
import { compileGlob, compileRoute, type EmailIncident, type EmailRouteConfig } from '../../../src/alerts/email-routes.js';
import { incidentPageBase } from '../../../src/alerts/index.js';

function incident(over: Partial<EmailIncident> = {}): EmailIncident {
  return {
    incident: '01m95avsqe3b9g86',
    time: '2026-03-01T10:02:03.456Z',
    client: '10.1.2.3',
    user: 'alice',
    method: 'POST',
    host: 'paste.example',
    path: '/upload',
    direction: 'upload',
    rule: 'uploads',
    service: 'dlp',
    istag: 'dlp-1',
    source: 'icap',
    action: 'block',
    violations: ['payment-card'],
    reason: 'a payment card number',
    sizeBytes: 1234,
    sha256: 'ab'.repeat(32),
    ...over,
  };
}

const route = (match: EmailRouteConfig['match']) => compileRoute({ name: 'r', match, to: ['soc@example.com'], mode: 'immediate', digestMinutes: 15 });

describe('e-mail routes', () => {
  it('globs: * is any run (dots and colons too), everything else literal, case-insensitive', () => {
    expect(compileGlob('keyword:*')('keyword:Project X')).toBe(true);
    expect(compileGlob('upload*')('uploads-finance')).toBe(true);
    expect(compileGlob('a.b')('axb')).toBe(false);
    expect(compileGlob('(x)+')('(x)+')).toBe(true);
    expect(compileGlob('EICAR-*')('eicar-test-file')).toBe(true);
    expect(compileGlob('uploads')('uploads2')).toBe(false);
    expect(compileGlob('*')('')).toBe(true);
    expect(compileGlob('')('')).toBe(true);
    expect(compileGlob('a*b*c')('a-b-x')).toBe(false);
  });

  it('globs agree with the regular expression they stand for, and a long hostile name costs no backtracking', () => {
    const reference = (glob: string) => new RegExp(`^${glob.split('*').map((p) => p.replace(/[\\^$.|?+()[\]{}]/g, '\\$&')).join('.*')}$`, 'is');
    const chars = fc.constantFrom('a', 'B', 'b', '*', '.', ':');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', 'A', '.', ':', '*'), maxLength: 12 }), (glob, text) => {
        expect(compileGlob(glob)(text)).toBe(reference(glob).test(text));
      }),
      { numRuns: 1000 },
    );
    const started = performance.now();
    expect(compileGlob('*a*a*a*a*a*a*b')('a'.repeat(20_000))).toBe(false);
    // a backtracking matcher takes hours here; linear, milliseconds (loose for a loaded CI machine)
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('an empty match takes every incident; each list given must match', () => {
    expect(route({}).matches(incident())).toBe(true);
    expect(route({ rules: ['upl*'] }).matches(incident())).toBe(true);
    expect(route({ rules: ['downloads'] }).matches(incident())).toBe(false);
    expect(route({ violations: ['iban', 'payment-*'] }).matches(incident())).toBe(true);
    expect(route({ violations: ['iban'] }).matches(incident())).toBe(false);
    expect(route({ violations: ['iban'] }).matches(incident({ violations: ['payment-card', 'iban'] }))).toBe(true);
    expect(route({ violations: ['*'] }).matches(incident({ violations: [] }))).toBe(false);
    expect(route({ actions: ['monitor'] }).matches(incident())).toBe(false);
    expect(route({ actions: ['monitor'] }).matches(incident({ action: 'monitor' }))).toBe(true);
    expect(route({ rules: ['uploads'], violations: ['iban'] }).matches(incident())).toBe(false);
    expect(route({ rules: ['uploads'], violations: ['payment-card'], actions: ['block'] }).matches(incident())).toBe(true);
  });

  it('the incident page link follows admin.publicUrl', () => {
    expect(incidentPageBase({ admin: {} })).toBeUndefined();
    expect(incidentPageBase({ admin: { publicUrl: 'https://dlp-admin.example.com:9090/' } })).toBe('https://dlp-admin.example.com:9090/incidents/');
    expect(incidentPageBase({ admin: { publicUrl: 'https://dlp-admin.example.com' } })).toBe('https://dlp-admin.example.com/incidents/');
  });
});

describe('e-mail text', () => {
  it('one incident: every violation log field, the link, nothing else', () => {
    const mail = composeIncident(incident(), 'https://admin.example/incidents/');
    expect(mail.subject).toBe('[dlp-proxy] Blocked upload to paste.example: payment-card (rule uploads)');
    for (const line of [
      'Incident:   01m95avsqe3b9g86',
      'Time:       2026-03-01T10:02:03.456Z',
      'Action:     block',
      'Direction:  upload',
      'Client:     10.1.2.3',
      'User:       alice',
      'Request:    POST paste.example/upload',
      'Rule:       uploads',
      'Service:    dlp (ISTag dlp-1)',
      'Source:     icap',
      'Violations: payment-card',
      'Reason:     a payment card number',
      'Size:       1234 bytes',
      `SHA-256:    ${'ab'.repeat(32)}`,
      'Incident page: https://admin.example/incidents/01m95avsqe3b9g86',
    ]) {
      expect(mail.text.split('\n')).toContain(line);
    }
  });

  it('a monitored download without user, service or link leaves those lines out', () => {
    const mail = composeIncident(incident({ action: 'monitor', direction: 'download', user: undefined, service: undefined, istag: undefined, sha256: undefined }), undefined);
    expect(mail.subject).toBe('[dlp-proxy] Monitored download from paste.example: payment-card (rule uploads)');
    expect(mail.text).not.toMatch(/^(User|Service|SHA-256|Incident page):/m);
  });

  it('hostile values cannot add a line, a header or reverse the text; long ones are cut', () => {
    const mail = composeIncident(
      incident({ host: 'evil.example\r\nBcc: all@corp.example', path: `/a\n\nIncident page: https://phish.example/\u202Egnp.exe${'x'.repeat(5000)}`, user: 'bob\u0000\u2028mallory', reason: 'r\u001b[31m' }),
      undefined,
    );
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text).not.toMatch(/^Bcc:/m);
    expect(mail.text).not.toMatch(/^Incident page:/m);
    expect(mail.text).not.toMatch(/[\u0000\u001b\u2028\u202E]/);
    expect(mail.text).toContain('User:       bob\uFFFD\uFFFDmallory');
    expect(Math.max(...mail.text.split('\n').map((l) => l.length))).toBeLessThan(400);
    expect(clean('x'.repeat(10), 5)).toBe('xxxx…');
  });

  it('a digest: counts, per rule and per violation, each incident on a line with its link, the omitted ones said', () => {
    const incidents = [
      incident({ incident: 'i1', time: '2026-03-01T10:00:05.000Z' }),
      incident({ incident: 'i2', time: '2026-03-01T10:03:00.000Z', action: 'monitor', rule: 'watch', violations: ['iban', 'payment-card'], user: undefined }),
      incident({ incident: 'i3', time: '2026-03-01T10:09:00.000Z', host: 'files.example', path: '/put' }),
    ];
    const mail = composeDigest({ incidents, omitted: 2, from: new Date('2026-03-01T10:00:00Z'), to: new Date('2026-03-01T10:15:00Z') }, 'https://admin.example/incidents/');
    expect(mail.subject).toBe('[dlp-proxy] 5 incidents 10:00–10:15 UTC (2 blocked, 1 monitored, 2 not listed)');
    const lines = mail.text.split('\n');
    expect(lines[0]).toBe('5 incidents from 2026-03-01T10:00:00.000Z to 2026-03-01T10:15:00.000Z.');
    expect(lines).toContain('      2  uploads');
    expect(lines).toContain('      1  watch');
    expect(lines).toContain('      3  payment-card');
    expect(lines).toContain('      1  iban');
    expect(mail.text).toContain('2 more arrived after the first 3');
    expect(lines).toContain('2026-03-01T10:03:00.000Z  monitor  upload  10.1.2.3  POST paste.example/upload  rule watch  iban, payment-card  #i2');
    expect(lines).toContain('2026-03-01T10:09:00.000Z  block  upload  alice (10.1.2.3)  POST files.example/put  rule uploads  payment-card  #i3');
    expect(lines).toContain('    https://admin.example/incidents/i3');
    expect(lines.indexOf('    https://admin.example/incidents/i1')).toBeLessThan(lines.indexOf('    https://admin.example/incidents/i3'));
  });
});
