// E-mail alerts in cluster mode, as an operator runs it: `dlp-proxy start` with workers: 2
// and the incident store off (so only the e-mail needs the workers' violations). Card uploads are
// blocked through both workers; each incident is mailed exactly once, by the primary (its
// /metrics counts the mails); a SIGHUP with new recipients takes effect, the replaced rules sending
// their open digest (every incident of both workers); at SIGTERM the new digest is sent.
import crypto from 'node:crypto';
import fs from 'node:fs';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CARD } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { freePort } from '../support/peers/common.js';
import { startSmtpSink, type SmtpSink } from '../support/peers/smtp.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import { proxyRequest } from '../support/proxy-client.js';
import { clusterConfig, startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';
import { tempDir } from '../support/temp-dir.js';

let proc: ProxyProcess | undefined;
let origin: Origin;
let pki: TestPki;
let sink: SmtpSink;

beforeAll(async () => {
  origin = await startOrigin();
  pki = makeTestPki();
  sink = await startSmtpSink({ tls: 'starttls', cert: pki.serverCert, key: pki.serverKey });
});
afterEach(async () => {
  await proc?.kill();
});
afterAll(async () => {
  await sink?.stop();
  await origin?.close();
});

describe('e-mail alerts in cluster mode (workers: 2)', () => {
  it('mails each incident once, from the primary; a reload applies new rules; open digests are sent', { timeout: 150_000 }, async () => {
    const adminPort = await freePort();
    const doc = await clusterConfig(tempDir('dlp-proxy-email-cluster-ca-'), {
      admin: { port: adminPort },
      incidents: { enabled: false },
      alerts: {
        email: {
          smtp: { host: '127.0.0.1', port: sink.port, caFile: pki.caCert },
          from: 'dlp@corp.example',
          rules: [
            { name: 'soc', to: ['soc@corp.example'] },
            { name: 'daily', to: ['daily@corp.example'], mode: 'digest', digestMinutes: 1440 },
          ],
        },
      },
    });
    proc = await startProxyProcess(doc, 'cluster started');
    const { lines } = proc;

    const blocked: string[] = [];
    // a new connection per request: node:cluster hands them to both workers in turn
    for (let i = 0; i < 10; i++) {
      const reply = await proxyRequest(doc.proxy.port, `${origin.url}/upload`, { method: 'POST', body: `card ${CARD} by ${crypto.randomUUID()}\n`, headers: { 'content-type': 'text/plain' } });
      expect(reply.status).toBe(403);
      blocked.push(String(reply.headers['x-dlp-incident']));
    }
    // the violation lines come through the process' stdout, which may trail its replies
    await expect.poll(() => new Set(lines.filter((l) => l.log === 'violation').map((l) => l.worker)).size).toBe(2);

    const immediate = () => sink.messages().filter((m) => m.rcptTos.includes('soc@corp.example'));
    await expect.poll(() => immediate().length, { timeout: 15_000 }).toBe(10);
    expect(immediate().map((m) => m.headers['x-dlp-incident']).sort()).toEqual([...blocked].sort());
    // counted sent when the 250 is back at the worker, which may be after the sink reported the message
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text(), { timeout: 5_000 }).toContain('dlp_proxy_email_alerts_total{email_rule="soc",outcome="sent"} 10');
    expect(sink.messages().filter((m) => m.rcptTos.includes('daily@corp.example'))).toHaveLength(0);

    // SIGHUP with another recipient: the new rules take over, the old digest is sent as it closes
    doc.alerts.email.rules[0]!.to = ['soc@corp.example', 'ciso@corp.example'];
    fs.writeFileSync(proc.file, YAML.stringify(doc));
    proc.child.kill('SIGHUP');
    await proc.waitFor((l) => l.msg === 'reload done', 60_000);
    const digests = () => sink.messages().filter((m) => m.rcptTos.includes('daily@corp.example'));
    // the sink reports a message on its stdout, which may reach us after its 250 did
    await expect.poll(digests, { timeout: 5_000 }).toHaveLength(1);
    expect(digests()[0]!.headers['subject']).toMatch(/^\[dlp-proxy\] 10 incidents /);
    for (const id of blocked) expect(digests()[0]!.text).toContain(`#${id}`);
    const reply = await proxyRequest(doc.proxy.port, `${origin.url}/upload`, { method: 'POST', body: `card ${CARD} after the reload\n`, headers: { 'content-type': 'text/plain' } });
    const last = String(reply.headers['x-dlp-incident']);
    await expect.poll(() => sink.messages().filter((m) => m.rcptTos.includes('ciso@corp.example')).length, { timeout: 15_000 }).toBe(1);
    expect(sink.messages().find((m) => m.rcptTos.includes('ciso@corp.example'))!.headers['x-dlp-incident']).toBe(last);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await expect.poll(digests, { timeout: 5_000 }).toHaveLength(2);
    expect(digests()[1]!.headers['subject']).toMatch(/^\[dlp-proxy\] 1 incident /);
    expect(digests()[1]!.text).toContain(`#${last}`);
    expect(immediate()).toHaveLength(11);
  });
});
