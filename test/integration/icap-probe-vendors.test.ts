// `dlp-proxy icap probe --test` against every vendor simulator: it names the vendor and the
// methods, runs a clean body and a test violation (a card number by REQMOD, EICAR by RESPMOD) read
// as the proxy reads them, says plainly when a service lets the violation through, and prints a
// config block that loads as a config. Exit codes: 0 all as expected, 1 a test failed, 2 usage.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icapProbe } from '../../src/cli/icap-probe.js';
import { parseConfigText } from '../../src/config/index.js';
import { VENDOR_PROFILES } from '../../src/enforce/index.js';
import { startVendorSimulator, VENDOR_SCRIPTS, type Method, type VendorScript, type VendorSimulator } from '../support/vendors/index.js';

async function probe(...argv: string[]): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const code = await icapProbe(argv, out);
  return { code, text: Buffer.concat(chunks).toString() };
}

/** The config block: everything after the blank line that precedes its first comment. */
const blockOf = (text: string) => text.slice(text.indexOf('\n# paste into your config') + 1);

describe.each(VENDOR_SCRIPTS.map((s) => [s.product, s] as const))('icap probe --test against %s', (_product, script: VendorScript) => {
  let sim: VendorSimulator;
  beforeAll(async () => {
    sim = await startVendorSimulator(script);
  });
  afterAll(async () => {
    await sim?.close();
  });

  it.each([['REQMOD', 'req'], ['RESPMOD', 'resp']] as const)('%s', async (method: Method, path) => {
    const url = sim.url(path);
    const { code, text } = await probe(url, '--test', '--timeout', '3000');
    expect(text).toMatch(new RegExp(`^vendor: +${script.vendor} \\(${VENDOR_PROFILES[script.vendor].product.replace(/[()/]/g, '\\$&')}\\): OPTIONS `, 'm'));
    if (!script.methods.includes(method)) {
      // the OPTIONS say so: only what is offered is tested, and no rule for that direction
      expect(text).toMatch(new RegExp(`^methods: +${script.methods.join(', ')}$`, 'm'));
      expect(text).not.toContain(`test ${method}`);
      expect(parseConfigText(blockOf(text), 'probe output').policy.map((r) => r.match.direction)).not.toContain(method === 'REQMOD' ? 'upload' : 'download');
      return;
    }
    expect(text).toMatch(new RegExp(`^methods: +${method}$`, 'm'));
    expect(text).toMatch(new RegExp(`^test ${method} clean: +ok: ICAP 204, pass$`, 'm'));
    // the violation this method sends is the one this product looks for, or it passes unnoticed
    const finds = (method === 'REQMOD' && script.finds === 'card') || (method === 'RESPMOD' && script.finds === 'eicar');
    const names = script.expect.violation[method]!.block.names;
    if (finds) {
      expect(text).toMatch(new RegExp(`^test ${method} violation: +ok: ICAP 200, block`, 'm'));
      for (const name of names) expect(text).toContain(name);
      expect(code).toBe(0);
    } else {
      expect(text).toMatch(new RegExp(`^test ${method} violation: +FAILED: ICAP 204, pass: NOT BLOCKED, this service let (a test card number|the EICAR test file) through$`, 'm'));
      expect(code).toBe(1);
    }
    const config = parseConfigText(blockOf(text), 'probe output');
    const name = method === 'REQMOD' ? 'dlp' : 'av';
    expect(config.services[name]).toMatchObject({ urls: [url], vendor: script.vendor, ...VENDOR_PROFILES[script.vendor].recommend });
    expect(config.policy.map((r) => [r.match.direction, r.scan])).toEqual([[method === 'REQMOD' ? 'upload' : 'download', name]]);
  });
});

describe('icap probe --test, what a server in monitor mode looks like', () => {
  let sim: VendorSimulator;
  beforeAll(async () => {
    sim = await startVendorSimulator(VENDOR_SCRIPTS.find((s) => s.vendor === 'metadefender')!);
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('a violation reported but let through is a failed test, said as such', async () => {
    const { code, text } = await probe(sim.url('resp-mon'), '--test');
    expect(text).toMatch(/^test RESPMOD violation: FAILED: ICAP 204, pass \(EICAR Test String\): reported but let through \(a monitor or trial mode\)$/m);
    expect(code).toBe(1);
  });

  it('--name names the service in the block; --reqmod on a RESPMOD-only service is an error, exit 1', async () => {
    const named = await probe(sim.url('resp'), '--name', 'malware');
    expect(named.code).toBe(0);
    expect(parseConfigText(blockOf(named.text), 'probe output').policy).toEqual([expect.objectContaining({ scan: 'malware' })]);
    const wrong = await probe(sim.url('resp'), '--test', '--reqmod');
    expect(wrong.text).toMatch(/^test REQMOD clean: +FAILED: error ICAP_METHOD_NOT_SUPPORTED/m);
    expect(wrong.code).toBe(1);
  });
});
