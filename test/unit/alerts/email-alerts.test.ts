// startEmailAlerts over a scripted mail hop (no sockets): routing to immediate and digest rules,
// digests on their period and never empty, the queue bound (drops counted), retries with backoff,
// a 5xx taken as final, the per-attempt deadline, close() sending open digests and then cutting.
import dc from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EMAIL_ALERT_CHANNEL, MailError, startEmailAlerts, type EmailAlerts, type EmailAlertMessage, type EmailAlertsConfig, type EmailFailure, type EmailIncident, type MailTransport, type OutgoingMail } from '../../../src/alerts/index.js';

type Step = 'ok' | 'hang' | MailError;

/** A mail hop whose n-th attempt does what `script(n)` says. */
function scripted(script: (n: number) => Step = () => 'ok') {
  const attempts: Array<{ mail: OutgoingMail; at: number; aborted: boolean }> = [];
  const delivered: OutgoingMail[] = [];
  let closed = false;
  const transport: MailTransport = {
    send(mail, signal) {
      const attempt = { mail, at: performance.now(), aborted: false };
      attempts.push(attempt);
      const step = script(attempts.length - 1);
      if (step === 'ok') {
        delivered.push(mail);
        return Promise.resolve();
      }
      if (step === 'hang') {
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            attempt.aborted = true;
            reject(new MailError('aborted', true, 0, 'EABORT'));
          }),
        );
      }
      return Promise.reject(step);
    },
    close: () => (closed = true),
  };
  return { transport, attempts, delivered, closed: () => closed };
}

const temporary = () => new MailError('451 4.3.0 Try again later', true, 451, 'EMESSAGE');
const permanent = () => new MailError('550 5.7.1 rejected', false, 550, 'EMESSAGE');

function config(over: Partial<EmailAlertsConfig> = {}): EmailAlertsConfig {
  return {
    smtp: { host: '127.0.0.1', tls: 'starttls' },
    from: 'dlp@example.com',
    rules: [{ name: 'soc', match: {}, to: ['soc@example.com'], mode: 'immediate', digestMinutes: 15 }],
    queueSize: 100,
    retries: 3,
    retryBackoffMs: 10,
    timeoutMs: 2000,
    ...over,
  };
}

let n = 0;
function incident(over: Partial<EmailIncident> = {}): EmailIncident {
  n++;
  return { incident: `inc${n}`, time: new Date().toISOString(), client: '10.0.0.1', method: 'POST', host: 'paste.example', path: '/p', direction: 'upload', rule: 'uploads', source: 'icap', action: 'block', violations: ['payment-card'], sizeBytes: 10, ...over };
}

const seen: EmailAlertMessage[] = [];
const onMessage = (m: unknown) => seen.push(m as EmailAlertMessage);
const open: EmailAlerts[] = [];
beforeEach(() => dc.subscribe(EMAIL_ALERT_CHANNEL, onMessage));
afterEach(async () => {
  vi.useRealTimers();
  dc.unsubscribe(EMAIL_ALERT_CHANNEL, onMessage);
  seen.length = 0;
  for (const e of open.splice(0)) await e.close();
});

async function start(cfg: EmailAlertsConfig, hop = scripted(), onFailure?: (f: EmailFailure) => void) {
  const email = await startEmailAlerts(cfg, { transport: hop.transport, incidentUrlBase: 'https://admin.example/incidents/', ...(onFailure ? { onFailure } : {}) });
  open.push(email);
  return { email, hop };
}

const count = (outcome: string, route = 'soc') => seen.filter((m) => m.outcome === outcome && m.route === route).reduce((sum, m) => sum + (outcome === 'dropped' ? m.incidents : 1), 0);

describe('e-mail alerts', () => {
  it('mails each incident to every rule that matches it, later, never inside notify()', async () => {
    const { email, hop } = await start(
      config({
        rules: [
          { name: 'soc', match: {}, to: ['soc@example.com'], mode: 'immediate', digestMinutes: 15 },
          { name: 'cards', match: { violations: ['payment-*'] }, to: ['pci@example.com', 'ciso@example.com'], mode: 'immediate', digestMinutes: 15 },
          { name: 'downloads', match: { rules: ['downloads'] }, to: ['av@example.com'], mode: 'immediate', digestMinutes: 15 },
        ],
      }),
    );
    const a = incident();
    email.notify(a);
    email.notify(incident({ violations: ['iban'] }));
    expect(hop.attempts).toHaveLength(0);
    await expect.poll(() => hop.delivered.length).toBe(3);
    expect(hop.delivered.map((m) => m.to)).toEqual([['soc@example.com'], ['pci@example.com', 'ciso@example.com'], ['soc@example.com']]);
    expect(hop.delivered[1]!.headers).toEqual({ 'X-DLP-Incident': a.incident });
    expect(hop.delivered[1]!.text).toContain(`Incident page: https://admin.example/incidents/${a.incident}`);
    expect(count('sent', 'soc')).toBe(2);
    expect(count('sent', 'cards')).toBe(1);
    expect(email.stats()).toMatchObject({ queued: 0, held: 0, sent: 3, failed: 0 });
  });

  it('a digest rule mails once per period what the period held, and nothing for an empty period', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:00Z'));
    const { email, hop } = await start(config({ rules: [{ name: 'soc', match: {}, to: ['soc@example.com'], mode: 'digest', digestMinutes: 15 }] }));
    for (let i = 0; i < 3; i++) email.notify(incident());
    expect(email.stats().held).toBe(3);
    vi.advanceTimersByTime(14 * 60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(hop.attempts).toHaveLength(0);
    vi.advanceTimersByTime(60_000);
    await expect.poll(() => hop.delivered.length).toBe(1);
    expect(hop.delivered[0]!.subject).toBe('[dlp-proxy] 3 incidents 10:00–10:15 UTC (3 blocked, 0 monitored)');
    expect(hop.delivered[0]!.text.match(/#inc\d+$/gm)).toHaveLength(3);
    vi.advanceTimersByTime(15 * 60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(hop.attempts).toHaveLength(1);
    email.notify(incident());
    vi.advanceTimersByTime(15 * 60_000);
    await expect.poll(() => hop.delivered.length).toBe(2);
    expect(hop.delivered[1]!.subject).toBe('[dlp-proxy] 1 incident 10:30–10:45 UTC (1 blocked, 0 monitored)');
    expect(email.stats()).toMatchObject({ held: 0, sent: 2 });
  });

  it('holds at most queueSize incidents: the rest are dropped and counted, in both modes', async () => {
    const hop = scripted(() => 'hang');
    const { email } = await start(
      config({
        queueSize: 3,
        timeoutMs: 200,
        rules: [
          { name: 'soc', match: { actions: ['block'] }, to: ['soc@example.com'], mode: 'immediate', digestMinutes: 15 },
          { name: 'daily', match: { actions: ['monitor'] }, to: ['soc@example.com'], mode: 'digest', digestMinutes: 1440 },
        ],
      }),
      hop,
    );
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) email.notify(incident());
    // 10,000 notifications against a hop that never answers: the caller never waits for it (a
    // loose bound for a loaded 2-core CI machine, where this loop alone takes ~0.5 s; waiting
    // would take timeoutMs per notification, 2,000 s in all)
    expect(performance.now() - started).toBeLessThan(5000);
    expect(email.stats()).toMatchObject({ held: 3 });
    expect(count('dropped')).toBe(9_997);
    email.notify(incident({ action: 'monitor' }));
    expect(count('dropped', 'daily')).toBe(1);
  });

  it('retries a temporary failure with backoff, takes a 5xx as final, and goes on with the queue', async () => {
    const failures: EmailFailure[] = [];
    const hop = scripted((i) => (i < 2 ? temporary() : i === 3 ? permanent() : 'ok'));
    const { email } = await start(config({ retries: 3, retryBackoffMs: 40 }), hop, (f) => failures.push(f));
    email.notify(incident());
    email.notify(incident());
    email.notify(incident());
    await expect.poll(() => hop.delivered.length).toBe(2);
    expect(hop.attempts).toHaveLength(5);
    // backoff: [20, 40] ms after the first failure, [40, 80] after the second
    expect(hop.attempts[1]!.at - hop.attempts[0]!.at).toBeGreaterThanOrEqual(19);
    expect(hop.attempts[2]!.at - hop.attempts[1]!.at).toBeGreaterThanOrEqual(39);
    expect(hop.attempts[2]!.mail).toBe(hop.attempts[0]!.mail);
    expect(count('retried')).toBe(2);
    expect(count('failed')).toBe(1);
    expect(count('sent')).toBe(2);
    expect(failures.map((f) => [f.attempt, f.final, f.error.responseCode])).toEqual([
      [0, false, 451],
      [1, false, 451],
      [0, true, 550],
    ]);
  });

  it('an attempt is cut at timeoutMs and retried; after the retries the mail is failed', async () => {
    const hop = scripted(() => 'hang');
    const { email } = await start(config({ timeoutMs: 60, retries: 2, retryBackoffMs: 5 }), hop);
    email.notify(incident());
    await expect.poll(() => email.stats().failed).toBe(1);
    expect(hop.attempts).toHaveLength(3);
    expect(hop.attempts.every((a) => a.aborted)).toBe(true);
    expect(count('retried')).toBe(2);
    expect(email.stats()).toMatchObject({ held: 0, queued: 0 });
  });

  it('close() sends the open digests, waits up to timeoutMs for the queue, then drops and counts the rest', async () => {
    const hop = scripted((i) => (i === 0 ? 'ok' : 'hang'));
    const { email } = await start(
      config({
        timeoutMs: 150,
        rules: [
          { name: 'soc', match: {}, to: ['soc@example.com'], mode: 'digest', digestMinutes: 60 },
          { name: 'now', match: {}, to: ['now@example.com'], mode: 'immediate', digestMinutes: 15 },
        ],
      }),
      hop,
    );
    email.notify(incident());
    email.notify(incident());
    const started = performance.now();
    await email.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1000);
    // the first immediate mail went out; the second hung and was cut; the digest (2 incidents) was dropped
    expect(count('sent', 'now')).toBe(1);
    expect(count('dropped', 'now')).toBe(1);
    expect(count('dropped', 'soc')).toBe(2);
    expect(hop.closed()).toBe(true);
    email.notify(incident());
    expect(count('dropped', 'soc')).toBe(3);
    expect(email.stats()).toMatchObject({ held: 0, queued: 0 });
  });

  it('close() with nothing queued returns at once, having sent the open digest', async () => {
    const { email, hop } = await start(config({ timeoutMs: 5000, rules: [{ name: 'soc', match: {}, to: ['soc@example.com'], mode: 'digest', digestMinutes: 60 }] }));
    email.notify(incident());
    const started = performance.now();
    await email.close();
    // waiting for the queue would take timeoutMs (5 s): a loose bound for a loaded CI machine
    expect(performance.now() - started).toBeLessThan(2000);
    expect(hop.delivered).toHaveLength(1);
    expect(hop.delivered[0]!.subject).toMatch(/^\[dlp-proxy\] 1 incident /);
  });
});
