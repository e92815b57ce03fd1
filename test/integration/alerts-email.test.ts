// E-mail alerts through the whole app against a real SMTP server on loopback (Debian's
// python3-aiosmtpd, test/support/peers/smtp-sink.py): an immediate mail with the violation log
// fields and the incident link over STARTTLS with AUTH and a custom CA, never content; a digest
// listing several incidents in one mail; a dead server retried then failed and logged, and a
// silent one whose queue overflows (drops counted), neither slowing traffic (exchange latency
// measured). The SMTP hop alone: implicit TLS; no mail in clear when STARTTLS is missing, none to
// a server whose certificate does not check out; a 4xx retried, a 5xx and a wrong password final.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmailAlerts, type EmailAlerts, type EmailFailure, type EmailIncident } from '../../src/alerts/index.js';
import { parseConfig } from '../../src/config/index.js';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { freePort } from '../support/peers/common.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../support/peers/smtp.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { metricTotal } from '../support/prometheus-text.js';
import { tempDir } from '../support/temp-dir.js';

const caDir = tempCaDir();
let pki: TestPki;
let icap: IcapServerHandle;
let origin: Origin;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  pki = makeTestPki();
  icap = await startBuiltinIcap();
  origin = await startOrigin();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  await origin?.close();
  await icap?.close();
});

async function sink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const s = await startSmtpSink({ cert: pki.serverCert, key: pki.serverKey, ...options });
  cleanup.push(() => s.stop());
  return s;
}

type Doc = Record<string, unknown>;

/** The app with the built-in DLP service, a monitored path, and `email` as alerts.email. */
async function start(email: Doc | undefined, more: Doc = {}): Promise<TestProxy> {
  const proxy = await startTestProxy(
    {
      admin: { enabled: true, port: 0 },
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] } },
      policy: [
        { name: 'watch-only', match: { direction: 'upload', paths: ['^/monitored'] }, scan: 'dlp', onViolation: 'monitor' },
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
      ],
      alerts: email ? { email } : {},
      // no incident store: its file would be shared with every other test process
      incidents: { enabled: false },
      ...more,
    },
    { caDir },
  );
  cleanup.push(() => proxy.close());
  return proxy;
}

const smtp = (port: number, more: Doc = {}) => ({ host: '127.0.0.1', port, tls: 'starttls', caFile: pki.caCert, ...more });
const soc = (more: Doc = {}) => ({ name: 'soc', to: ['soc@corp.example'], ...more });
const card = () => `invoice 4111 1111 1111 1111 ${crypto.randomUUID()}`;
const upload = (proxy: TestProxy, urlPath: string, body: string) => proxyRequest(proxy.port, `${origin.url}${urlPath}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });

/**
 * Blocked uploads one after another; their latencies in ms, sorted. (The baseline proxy is closed
 * before the one under test starts: lifecycle events are process-wide, so its blocks would be
 * mailed too.)
 */
async function timeBlocks(proxy: TestProxy, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const reply = await upload(proxy, '/upload', `${card()} #${i}`);
    times.push(performance.now() - started);
    expect(reply.status).toBe(403);
  }
  return times.sort((a, b) => a - b);
}

describe('e-mail alerts over SMTP', () => {
  it('an immediate mail over STARTTLS with AUTH and a custom CA: the violation log fields and the incident link, never content', async () => {
    const server = await sink({ tls: 'starttls', user: 'dlp-alerts', password: 's3cret pass' });
    const passFile = path.join(tempDir('dlp-proxy-smtp-pass-'), 'pass');
    fs.writeFileSync(passFile, 's3cret pass\n', { mode: 0o600 });
    const proxy = await start(
      { smtp: smtp(server.port, { user: 'dlp-alerts', passFile }), from: 'DLP proxy <dlp@corp.example>', rules: [soc({ match: { rules: ['upl*'] }, to: ['soc@corp.example', 'ciso@corp.example'] })] },
      { admin: { enabled: true, port: 0, publicUrl: 'https://dlp-admin.corp.example:9090' } },
    );
    const blocked = await upload(proxy, '/upload', card());
    expect(blocked.status).toBe(403);
    expect((await upload(proxy, '/monitored/notes', card())).status).toBe(200);
    await expect.poll(() => server.messages().length, { timeout: 10_000 }).toBe(1);
    const id = String(blocked.headers['x-dlp-incident']);

    const [mail] = server.messages();
    expect(server.events.map((e) => e.event)).toEqual(expect.arrayContaining(['starttls', 'auth']));
    expect(mail).toMatchObject({ mailFrom: 'dlp@corp.example', rcptTos: ['soc@corp.example', 'ciso@corp.example'], tls: true, starttls: true, login: 'dlp-alerts' });
    expect(mail!.headers).toMatchObject({
      'x-dlp-incident': id,
      'auto-submitted': 'auto-generated',
      subject: '[dlp-proxy] Blocked upload to 127.0.0.1: payment-card (rule uploads)',
      from: 'DLP proxy <dlp@corp.example>',
    });
    const text = mail!.text;
    const line = proxy.logs.find((l) => l['log'] === 'violation' && l['incident'] === id)!;
    for (const expected of [
      `Incident:   ${id}`,
      `Client:     ${String(line['client'])}`,
      `Request:    POST ${String(line['host'])}/upload`,
      'Action:     block',
      'Direction:  upload',
      'Rule:       uploads',
      `Service:    dlp (ISTag ${String(line['istag'])})`,
      'Source:     icap',
      `Violations: ${(line['violations'] as string[]).join(', ')}`,
      `Size:       ${String(line['sizeBytes'])} bytes`,
      `SHA-256:    ${String(line['sha256'])}`,
      `Incident page: https://dlp-admin.corp.example:9090/incidents/${id}`,
    ]) {
      expect(text).toContain(expected);
    }
    // the card's digits in any spacing (a hash, a date or an id holds some four digits now and then)
    expect(mail!.data).not.toMatch(/4111[ -]?1111/);
    expect(mail!.data).not.toContain('s3cret');
    // counted sent when the 250 is back at the proxy, which may be after the sink reported the message
    await expect.poll(() => metricTotal(proxy.app.adminPort!, 'dlp_proxy_email_alerts_total', { email_rule: 'soc', outcome: 'sent' })).toBe(1);
  });

  it('a digest groups the incidents of its period into one mail (sent at shutdown for the open period)', async () => {
    const server = await sink({ tls: 'starttls' });
    const proxy = await start({ smtp: smtp(server.port), from: 'dlp@corp.example', rules: [soc({ mode: 'digest', digestMinutes: 60 })] });
    for (const p of ['/upload', '/monitored/a', '/upload']) await upload(proxy, p, card());
    const ids = proxy.logs.filter((l) => l['log'] === 'violation').map((l) => String(l['incident']));
    expect(ids).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.messages()).toHaveLength(0);
    await proxy.close();
    // the sink reports a message on its stdout, which may reach us after its 250 did
    await expect.poll(() => server.messages().length, { timeout: 5_000 }).toBe(1);
    const { text, headers } = server.messages()[0]!;
    expect(headers['subject']).toMatch(/^\[dlp-proxy\] 3 incidents \d\d:\d\d–\d\d:\d\d UTC \(2 blocked, 1 monitored\)$/);
    for (const id of ids) expect(text).toContain(`#${id}`);
    expect(text).toMatch(/^ +2 {2}uploads$/m);
    expect(text).toMatch(/^ +1 {2}watch-only$/m);
  });

  it('a dead SMTP server: each mail retried then counted failed, traffic as fast as without e-mail', async () => {
    const deadPort = await freePort();
    const baseline = await start(undefined);
    const before = await timeBlocks(baseline, 10);
    await baseline.close();
    const proxy = await start({ smtp: smtp(deadPort), from: 'dlp@corp.example', retries: 2, retryBackoffMs: 10, rules: [soc()] });
    const withDead = await timeBlocks(proxy, 10);
    // bounds loose for a loaded CI machine
    expect(withDead[5]!).toBeLessThan(before[5]! * 2 + 50);
    expect(withDead.at(-1)!).toBeLessThan(1000);
    await expect.poll(() => metricTotal(proxy.app.adminPort!, 'dlp_proxy_email_alerts_total', { email_rule: 'soc', outcome: 'failed' }), { timeout: 10_000 }).toBe(10);
    expect(await metricTotal(proxy.app.adminPort!, 'dlp_proxy_email_alerts_total', { email_rule: 'soc', outcome: 'retried' })).toBe(20);
    expect(proxy.logs.filter((l) => l['msg'] === 'alert mail given up' && l['code'] === 'ESOCKET')).toHaveLength(10);
  });

  it('a server that never answers: the queue fills, the overflow is dropped and counted, traffic unslowed, shutdown bounded', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const baseline = await start(undefined);
    const before = await timeBlocks(baseline, 12);
    await baseline.close();
    const TIMEOUT_MS = 1000;
    const proxy = await start({ smtp: smtp((silent.address() as net.AddressInfo).port), from: 'dlp@corp.example', queueSize: 2, timeoutMs: TIMEOUT_MS, retries: 1, retryBackoffMs: 50, rules: [soc()] });
    const withSilent = await timeBlocks(proxy, 12);
    // a sender that waited for the server would take ≥ TIMEOUT_MS for each blocked upload past the
    // queue's two (bounds loose for a loaded CI machine: one slow upload allowed)
    expect(withSilent[10]!).toBeLessThan(TIMEOUT_MS);
    expect(withSilent[6]!).toBeLessThan(before[6]! * 2 + 50);
    expect(await metricTotal(proxy.app.adminPort!, 'dlp_proxy_email_alerts_dropped_incidents_total', { email_rule: 'soc' })).toBeGreaterThanOrEqual(9);
    const closing = performance.now();
    await proxy.close();
    // close() waits up to timeoutMs for the queue (then drops it): bounded by it, not by the retries
    expect(performance.now() - closing).toBeLessThan(TIMEOUT_MS + 1500);
  });
});

describe('the SMTP hop (alerts.email through startEmailAlerts, no proxy)', () => {
  const failures: EmailFailure[] = [];
  afterEach(() => {
    failures.length = 0;
  });

  async function mailer(email: Doc): Promise<EmailAlerts> {
    const alerts = await startEmailAlerts(parseConfig({ alerts: { email: { from: 'dlp@corp.example', rules: [soc()], ...email } } }).alerts.email!, { onFailure: (f) => failures.push(f) });
    cleanup.push(() => alerts.close());
    return alerts;
  }

  const incident = (): EmailIncident => ({ incident: crypto.randomUUID(), time: new Date().toISOString(), client: '10.0.0.1', method: 'POST', host: 'paste.example', path: '/p', direction: 'upload', rule: 'uploads', source: 'icap', action: 'block', violations: ['payment-card'], sizeBytes: 1 });

  it('implicit TLS (SMTPS) from the first byte', async () => {
    const server = await sink({ tls: 'implicit' });
    const alerts = await mailer({ smtp: smtp(server.port, { tls: 'implicit' }) });
    alerts.notify(incident());
    await expect.poll(() => server.messages().length, { timeout: 10_000 }).toBe(1);
    expect(server.messages()[0]).toMatchObject({ tls: true, starttls: false });
  });

  it('never in clear, never to an unchecked server: no STARTTLS offered, an unknown CA, a wrong server name', async () => {
    const plain = await sink({ tls: 'none' });
    const tlsServer = await sink({ tls: 'starttls' });
    const outcomes = await Promise.all(
      [
        smtp(plain.port, { caFile: undefined }),
        smtp(tlsServer.port, { caFile: undefined }),
        smtp(tlsServer.port, { servername: 'other.example' }),
        smtp(tlsServer.port, { servername: 'icap.test' }),
      ].map(async (config) => {
        const alerts = await mailer({ smtp: config, retries: 0 });
        alerts.notify(incident());
        await expect.poll(() => alerts.stats().sent + alerts.stats().failed, { timeout: 10_000 }).toBe(1);
        return alerts.stats().sent === 1 ? 'sent' : 'failed';
      }),
    );
    expect(outcomes).toEqual(['failed', 'failed', 'failed', 'sent']);
    expect(plain.messages()).toHaveLength(0);
    await expect.poll(() => tlsServer.messages().length).toBe(1);
    expect(failures.map((f) => f.error.message).join('\n')).toMatch(/STARTTLS/i);
  });

  it('a 4xx is retried until taken; a 5xx and a wrong password are final, not retried', async () => {
    const flaky = await sink({ tls: 'starttls', tempFail: 2 });
    const refusing = await sink({ tls: 'starttls', reject: true });
    const authing = await sink({ tls: 'starttls', user: 'dlp-alerts', password: 'right' });
    const retrying = { retries: 3, retryBackoffMs: 20 };
    const [a, b, c] = await Promise.all([
      mailer({ smtp: smtp(flaky.port), ...retrying }),
      mailer({ smtp: smtp(refusing.port), ...retrying }),
      mailer({ smtp: smtp(authing.port, { user: 'dlp-alerts', pass: 'wrong' }), ...retrying }),
    ]);
    for (const alerts of [a!, b!, c!]) alerts.notify(incident());
    await expect.poll(() => [a!.stats().sent, b!.stats().failed, c!.stats().failed], { timeout: 10_000 }).toEqual([1, 1, 1]);
    await expect.poll(() => flaky.messages().length).toBe(1);
    expect(flaky.events.filter((e) => e.event === 'refused')).toHaveLength(2);
    // the sinks report on their stdout, which may reach us after their answer reached the mailer
    await expect.poll(() => refusing.events.filter((e) => e.event === 'refused')).toHaveLength(1);
    await expect.poll(() => authing.events.filter((e) => e.event === 'auth')).toEqual([{ event: 'auth', mechanism: 'PLAIN', login: 'dlp-alerts', ok: false }]);
    const summary = failures.map((f) => [f.error.responseCode, f.final]).sort();
    expect(summary).toEqual([
      [451, false],
      [451, false],
      [535, true],
      [550, true],
    ]);
    expect(failures.find((f) => f.error.responseCode === 535)!.error.errorCode).toBe('EAUTH');
    expect(failures.map((f) => f.error.message).join('\n')).not.toContain('wrong');
  });
});
