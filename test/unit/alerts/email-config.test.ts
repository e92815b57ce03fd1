// alerts.email in the config schema: the defaults, and what is refused with its path: a password
// in two places or without a user, mail in clear off loopback, a rule name twice, an address that
// could carry a header, an unreadable passFile or caFile at start.
import { describe, expect, it } from 'vitest';
import { startEmailAlerts } from '../../../src/alerts/index.js';
import { ConfigError, parseConfig } from '../../../src/config/index.js';

const rule = { name: 'soc', to: ['soc@example.com'] };
const email = (more: Record<string, unknown> = {}, smtp: Record<string, unknown> = {}) => ({ alerts: { email: { smtp: { host: 'smtp.example.com', ...smtp }, from: 'dlp@example.com', rules: [rule], ...more } } });

function issues(doc: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('alerts.email config', () => {
  it('is off unless configured; the defaults when it is', () => {
    expect(parseConfig({}).alerts.email).toBeUndefined();
    expect(parseConfig(email()).alerts.email).toEqual({
      smtp: { host: 'smtp.example.com', tls: 'starttls' },
      from: 'dlp@example.com',
      rules: [{ name: 'soc', match: {}, to: ['soc@example.com'], mode: 'immediate', digestMinutes: 15 }],
      queueSize: 1000,
      retries: 5,
      retryBackoffMs: 5000,
      timeoutMs: 15000,
    });
    expect(parseConfig(email({ from: 'DLP proxy <dlp@example.com>' })).alerts.email?.from).toBe('DLP proxy <dlp@example.com>');
  });

  it('refuses, with the path, what would leak, mislead or never work', () => {
    expect(issues(email({}, { user: 'u', pass: 'p', passFile: '/etc/p' }))).toEqual([{ path: 'alerts.email.smtp', message: 'give pass or passFile, not both' }]);
    expect(issues(email({}, { pass: 'p' }))).toEqual([{ path: 'alerts.email.smtp', message: 'a password needs user' }]);
    expect(issues(email({}, { tls: 'none' }))[0]).toMatchObject({ path: 'alerts.email.smtp', message: expect.stringMatching(/^tls: none only for a relay on loopback/) });
    expect(issues(email({}, { host: '127.0.0.1', tls: 'none' }))).toEqual([]);
    expect(issues(email({ rules: [rule, { ...rule, to: ['x@example.com'] }] }))).toEqual([{ path: 'alerts.email.rules[1].name', message: 'e-mail rule name "soc" is used twice' }]);
    expect(issues(email({ rules: [] }))[0]?.path).toBe('alerts.email.rules');
    expect(issues(email({ rules: [{ ...rule, to: ['soc@example.com\r\nBcc: all@example.com'] }] }))[0]?.path).toBe('alerts.email.rules[0].to[0]');
    expect(issues(email({ from: 'x <a@example.com>\r\nBcc: b@example.com' }))[0]?.path).toBe('alerts.email.from');
    expect(issues(email({ from: 'Bob, Eve <a@example.com>' }))[0]?.path).toBe('alerts.email.from');
    expect(issues(email({ rules: [{ ...rule, mode: 'digest', digestMinutes: 0 }] }))[0]?.path).toBe('alerts.email.rules[0].digestMinutes');
    expect(issues(email({ rules: [{ ...rule, match: { actions: ['pass'] } }] }))[0]?.path).toBe('alerts.email.rules[0].match.actions[0]');
    expect(issues(email({ extra: 1 }))[0]?.path).toBe('alerts.email.extra');
  });

  it('a passFile or caFile that cannot be read fails the start, naming the key', async () => {
    const config = (smtp: Record<string, unknown>) => parseConfig(email({}, smtp)).alerts.email!;
    await expect(startEmailAlerts(config({ user: 'u', passFile: '/nonexistent/pass' }))).rejects.toThrow(/^alerts\.email\.smtp\.passFile: cannot read \/nonexistent\/pass$/);
    await expect(startEmailAlerts(config({ caFile: '/nonexistent/ca.pem' }))).rejects.toThrow(/^alerts\.email\.smtp\.caFile: cannot read \/nonexistent\/ca\.pem$/);
  });
});
