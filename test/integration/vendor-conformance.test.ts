// Every DLP and AV server as it really answers: one suite, the whole pipeline (startTestProxy)
// against the simulator of each vendor (test/support/vendors/, each citing the pages it follows),
// REQMOD and RESPMOD, with and without preview, every service `vendor: auto`. Per case it asserts
// the verdict, the reason on the block page, the violation names in the violation log line and,
// for errors, the code on the 503 page and the fail class that code takes (under /np/ the classes
// serverError and unscannable fail open: the same vendor answer then passes, logged unscanned).
// c-icap, the real peer, runs the enforcement suite in test/interop/ (and `auto` there too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failClass, type FailClass } from '../../src/enforce/index.js';
import { startVendorHarness, violationLine, type Direction, type Exchange, type VendorHarness } from '../support/vendors/conformance-harness.js';
import { encryptedZip, SIM_ERROR, SIM_OVERLOAD, SIM_SLOW, VENDOR_SCRIPTS, violationContent, type Method, type Outcome, type VendorScript } from '../support/vendors/index.js';
import { CARD } from '../support/enforcement-suite.js';
import { tempCaDir } from '../support/proxy-harness.js';

const MAX_SCAN_BYTES = 64 * 1024;
const caDir = tempCaDir();
const methodOf = (d: Direction): Method => (d === 'upload' ? 'REQMOD' : 'RESPMOD');
/** Bodies larger than every simulator's preview, so the preview and 100 Continue are exercised. */
const clean = `quarterly figures, nothing secret\n${'a steady line of plain text\n'.repeat(200)}`;
const notOffered: Outcome = { unavailable: 'ICAP_METHOD_NOT_SUPPORTED', failClass: 'serverError' };

async function expectOutcome(h: VendorHarness, x: Exchange, outcome: Outcome, direction: Direction, variant: 'p' | 'np'): Promise<void> {
  const what = `${direction} ${x.path}`;
  if ('block' in outcome) {
    expect(x.reply.status, what).toBe(403);
    const reason = outcome.block.reason;
    if (typeof reason === 'string') expect(x.page?.reason, what).toBe(reason);
    else expect(x.page?.reason, what).toMatch(reason);
    expect(x.page?.violations, what).toEqual(outcome.block.names);
    const incident = x.page!.incidentId!;
    await expect.poll(() => violationLine(h.proxy, { incident }), { message: what }).toBeDefined();
    expect(violationLine(h.proxy, { incident }) ?? {}, what).toMatchObject({ action: 'block', source: 'icap', violations: outcome.block.names, path: x.path });
    if (direction === 'upload') expect(h.origin.received.has(x.path), `${what} never reaches the origin`).toBe(false);
    else expect(x.reply.body.includes(x.sent), `${what} no byte of the original`).toBe(false);
    return;
  }
  if ('unavailable' in outcome) {
    // the class decides: closed under /p/, open under /np/ for serverError and unscannable
    expect(failClass(outcome.unavailable), what).toBe(outcome.failClass);
    const opens: FailClass[] = ['serverError', 'unscannable'];
    if (variant === 'np' && opens.includes(outcome.failClass)) {
      await expectPassed(h, x, direction);
      await expect.poll(() => violationLine(h.proxy, { path: x.path }), { message: what }).toMatchObject({ source: 'fail-open', action: 'pass' });
      return;
    }
    expect(x.reply.status, what).toBe(503);
    expect(x.page?.code, what).toBe(outcome.unavailable);
    return;
  }
  await expectPassed(h, x, direction);
  if (outcome.pass.names) {
    await expect.poll(() => violationLine(h.proxy, { path: x.path }), { message: what }).toBeDefined();
    expect(violationLine(h.proxy, { path: x.path }) ?? {}, what).toMatchObject({ action: 'monitor', source: 'icap', violations: outcome.pass.names });
  } else {
    expect(violationLine(h.proxy, { path: x.path }), `${what}: nothing to log`).toBeUndefined();
  }
}

async function expectPassed(h: VendorHarness, x: Exchange, direction: Direction): Promise<void> {
  expect(x.reply.status, x.path).toBe(200);
  if (direction === 'upload') expect(h.origin.received.get(x.path)?.equals(x.sent), `${x.path} reached the origin byte for byte`).toBe(true);
  else expect(x.reply.body.equals(x.sent), `${x.path} delivered byte for byte`).toBe(true);
}

describe.each(VENDOR_SCRIPTS.map((s) => [s.product, s] as const))('%s', (_product, script: VendorScript) => {
  let h: VendorHarness;
  const offered = (d: Direction) => script.methods.includes(methodOf(d));
  const outcome = (d: Direction, o: Outcome | undefined): Outcome => (offered(d) ? o! : notOffered);

  beforeAll(async () => {
    h = await startVendorHarness(script, caDir, { maxScanBytes: MAX_SCAN_BYTES });
  });
  afterAll(async () => {
    await h?.close();
  });

  describe.each([['upload'], ['download']] as const)('%s', (direction) => {
    describe.each([['p'], ['np']] as const)('%s (p: with preview, np: without)', (variant) => {
      it('clean: passes byte for byte, nothing logged as a violation', async () => {
        const x = await h.send(direction, variant, clean);
        await expectOutcome(h, x, offered(direction) ? { pass: {} } : notOffered, direction, variant);
      });

      it('violation: blocked with the vendor\'s names and reason', async () => {
        const x = await h.send(direction, variant, violationContent(script));
        await expectOutcome(h, x, outcome(direction, script.expect.violation[methodOf(direction)]), direction, variant);
      });

      it('unscannable (an encrypted ZIP): what the vendor says it is', async () => {
        const x = await h.send(direction, variant, encryptedZip());
        await expectOutcome(h, x, outcome(direction, script.expect.encrypted), direction, variant);
      });

      it('internal server error: its code and fail class', async () => {
        const x = await h.send(direction, variant, `${clean}${SIM_ERROR}`);
        await expectOutcome(h, x, outcome(direction, script.expect.error), direction, variant);
      });

      it('overload (503): ICAP_OVERLOADED, fail class overload, closed', async () => {
        const x = await h.send(direction, variant, `${clean}${SIM_OVERLOAD}`);
        await expectOutcome(h, x, offered(direction) ? { unavailable: 'ICAP_OVERLOADED', failClass: 'overload' } : notOffered, direction, variant);
      });
    });

    // decided before any server is asked, so once per direction (preview has no part in it)
    it('oversize: past scan.maxScanBytes the oversize action blocks, the server never asked', async () => {
      const x = await h.send(direction, 'p', 'z'.repeat(MAX_SCAN_BYTES + 1024));
      expect(x.reply.status).toBe(403);
      expect(x.page?.violations).toEqual(['oversize']);
      expect(x.page?.reason).toMatch(/larger than the 65536 bytes that can be scanned/);
      expect(h.sim.server.requests.filter((r) => r.body.includes(x.path))).toEqual([]);
    });

    it('policy monitor (onViolation: monitor): the vendor\'s violation passes, logged as monitored with its names', async () => {
      const x = await h.send(direction, 'pm', violationContent(script));
      const expected = script.expect.violation[methodOf(direction)];
      await expectOutcome(h, x, offered(direction) ? { pass: { names: expected!.block.names } } : notOffered, direction, 'p');
    });

    // only for the vendors that document a monitor / trial mode of their own
    const serverMonitor = script.expect.serverMonitor;
    if (serverMonitor) {
      it('the server\'s own monitor / trial mode: passed; logged as monitored when the vendor says what it found', async () => {
        const x = await h.send(direction, 'mon', violationContent(script));
        await expectOutcome(h, x, outcome(direction, serverMonitor[methodOf(direction)]), direction, 'p');
      });
    }

    it('Max-Connections reached: the next body waits queueTimeoutMs, then ICAP_QUEUE_TIMEOUT (overload)', async () => {
      if (!offered(direction)) {
        await expectOutcome(h, await h.send(direction, 'mc1', clean), notOffered, direction, 'p');
        return;
      }
      const slowly = h.send(direction, 'mc1', `${clean}${SIM_SLOW}`);
      // the one connection is taken: the slow answer is held by the server until the queued one gave up
      await expect.poll(() => h.sim.slowInFlight(), { interval: 5 }).toBe(1);
      const queued = await h.send(direction, 'mc1', clean);
      h.sim.releaseSlow();
      const slow = await slowly;
      await expectOutcome(h, slow, { pass: {} }, direction, 'p');
      await expectOutcome(h, queued, { unavailable: 'ICAP_QUEUE_TIMEOUT', failClass: 'overload' }, direction, 'p');
    });
  });

  if (script.vendor === 'symantec') {
    it('REQMOD redaction ("Remove HTTP/HTTPS content"): the request goes on without the card, not a violation', async () => {
      const x = await h.send('upload', 'redact', violationContent(script));
      expect(x.reply.status).toBe(200);
      expect(h.origin.received.get(x.path)?.toString()).toBe(x.sent.toString().replace(CARD, ''));
      expect(violationLine(h.proxy, { path: x.path })).toBeUndefined();
    });
  }

  it('is recognised from OPTIONS (vendor: auto), logged once per service with the reason', () => {
    const lines = h.proxy.logs.filter((l) => l.log === 'icap' && typeof l.vendor === 'string');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line, String(line.service)).toMatchObject({ vendor: script.vendor, configured: 'auto', msg: expect.stringMatching(new RegExp(`^ICAP vendor profile ${script.vendor} \\(auto\\): OPTIONS `)) });
    const services = lines.map((l) => l.service);
    expect(new Set(services).size).toBe(services.length);
  });

  it('sent a preview where offered and none where not', () => {
    const transactions = h.sim.server.requests.filter((r) => r.head.method !== 'OPTIONS' && r.body.length > 1024);
    const np = transactions.filter((r) => new URL(r.head.uri).pathname.endsWith('-np'));
    const p = transactions.filter((r) => /^\/(req|resp)$/.test(new URL(r.head.uri).pathname));
    expect(np.length).toBeGreaterThan(0);
    expect(p.length).toBeGreaterThan(0);
    expect(np.every((r) => r.head.preview === undefined)).toBe(true);
    expect(p.every((r) => r.head.preview !== undefined)).toBe(true);
  });
});
