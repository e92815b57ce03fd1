// `dlp-proxy icap probe URL [--test] [--name N] [--file F] [--reqmod|--respmod] [--preview N]
// [--ca F --cert F --key F] [--servername N] [--insecure] [--timeout MS]`: the "test connectivity"
// step of external-DLP setup guides, our answer to c-icap-client. It prints the service's OPTIONS
// and the vendor they show (the profile `vendor: auto` would choose, and why); with --test it sends
// a clean body and a test violation (a card number by REQMOD, EICAR by RESPMOD; the offered methods
// unless one is named) and reads the answers as the proxy would; with --file it sends that file by
// REQMOD (default) or RESPMOD and prints the outcome. It ends with the config block to paste.
// Exit 0 when the service answered (and every test went as a working service's would), 1 on a
// failure or a test that did not, 2 on a usage error. `argv` holds the words after `icap probe`.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isProxyError } from '../core/errors.js';
import { detectVendor, VENDOR_PROFILES } from '../enforce/index.js';
import { IcapService, type IcapOptions, type IcapSendResult } from '../icap/index.js';
import { parseArgs, stringFlag } from './args.js';
import { configBlock } from './probe-config.js';
import { probeHeads, runProbeTests, type ProbeMethod } from './probe-test.js';

const USAGE = 'usage: dlp-proxy icap probe URL [--test] [--name N] [--file F] [--reqmod|--respmod] [--preview N] [--ca F --cert F --key F] [--servername N] [--insecure] [--timeout MS]\n';
const VIOLATION_HEADERS = ['x-infection-found', 'x-violations-found', 'x-virus-id', 'x-blocked-reason', 'x-response-info', 'x-response-desc', 'x-attribute', 'x-mfe-prevent'];

export async function icapProbe(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const args = parseArgs(argv, ['reqmod', 'respmod', 'insecure', 'test']);
  const url = args.positional[0];
  const previewFlag = stringFlag(args, 'preview');
  const timeoutMs = Number(stringFlag(args, 'timeout') ?? 10_000);
  if (!url || !/^icaps?:\/\//.test(url) || (previewFlag !== undefined && !/^\d+$/.test(previewFlag)) || !(timeoutMs > 0) || (args.flags.has('reqmod') && args.flags.has('respmod'))) {
    out.write(USAGE);
    return 2;
  }
  const line = (label: string, value: unknown) => out.write(`${`${label}:`.padEnd(Math.max(20, label.length + 2))}${String(value)}\n`);
  const tlsFlags = ['ca', 'cert', 'key', 'servername'].filter((f) => stringFlag(args, f) !== undefined);
  const tls =
    tlsFlags.length > 0 || args.flags.has('insecure')
      ? {
          ...(stringFlag(args, 'ca') ? { ca: stringFlag(args, 'ca')! } : {}),
          ...(stringFlag(args, 'cert') ? { cert: stringFlag(args, 'cert')! } : {}),
          ...(stringFlag(args, 'key') ? { key: stringFlag(args, 'key')! } : {}),
          ...(stringFlag(args, 'servername') ? { servername: stringFlag(args, 'servername')! } : {}),
          rejectUnauthorized: !args.flags.has('insecure'),
        }
      : undefined;
  const service = new IcapService({
    name: 'probe',
    servers: [{ url, weight: 1 }],
    ...(tls ? { tls } : {}),
    maxConnections: 1,
    connectTimeoutMs: timeoutMs,
    previewTimeoutMs: timeoutMs,
    readIdleTimeoutMs: timeoutMs,
    queueTimeoutMs: timeoutMs,
    idleTimeoutMs: 1000,
  });
  const started = performance.now();
  try {
    const options = await service.options();
    line('server', url);
    printOptions(options, line);
    const detection = detectVendor(options.headers);
    const profile = VENDOR_PROFILES[detection.vendor];
    line('vendor', `${detection.vendor} (${profile.product}): ${detection.reason}`);
    const offered = (['REQMOD', 'RESPMOD'] as const).filter((m) => options.supports(m));
    const block = () => configBlock({ url, methods: offered, detection, profile, ...(stringFlag(args, 'name') ? { name: stringFlag(args, 'name')! } : {}), ...(tls ? { tls } : {}) });
    const chosen: ProbeMethod[] = args.flags.has('reqmod') ? ['REQMOD'] : args.flags.has('respmod') ? ['RESPMOD'] : [...offered];
    let failed = false;
    if (args.flags.has('test')) {
      out.write('\n');
      for (const r of await runProbeTests(service, chosen, detection.vendor, previewFlag === undefined ? undefined : Number(previewFlag))) {
        line(`test ${r.label}`, `${r.ok ? 'ok' : 'FAILED'}: ${r.line}`);
        failed ||= !r.ok;
      }
    }
    const file = stringFlag(args, 'file');
    if (file === undefined) {
      line('time', `${(performance.now() - started).toFixed(1)} ms`);
      out.write(`\n${block()}`);
      return failed ? 1 : 0;
    }
    const method = args.flags.has('respmod') ? 'RESPMOD' : 'REQMOD';
    const size = (await stat(file)).size;
    const sent = performance.now();
    const result = await service.send({
      method,
      ...probeHeads(method, path.basename(file), size),
      body: size > 0 ? createReadStream(file) : null,
      bodyBytes: size,
      allow204: true,
      ...(previewFlag !== undefined ? { preview: Number(previewFlag) } : {}),
    });
    out.write('\n');
    line('request', `${method} ${file} (${size} bytes)`);
    await printResult(result, line);
    line('time', `${(performance.now() - sent).toFixed(1)} ms (with OPTIONS ${(performance.now() - started).toFixed(1)} ms)`);
    out.write(`\n${block()}`);
    return failed ? 1 : 0;
  } catch (err) {
    const code = isProxyError(err) ? err.code : 'ERROR';
    out.write(`error ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    line('time', `${(performance.now() - started).toFixed(1)} ms`);
    return 1;
  } finally {
    await service.close();
  }
}

function printOptions(o: IcapOptions, line: (l: string, v: unknown) => void): void {
  line('status', 'ICAP/1.0 200 (OPTIONS)');
  if (o.service) line('service', o.service);
  if (o.server) line('server header', o.server);
  line('methods', o.methods.join(', ') || '(not stated)');
  line('istag', o.istag ?? '(none)');
  line('preview', o.preview === undefined ? 'none' : `${o.preview} bytes`);
  line('allow', [o.allow204 ? '204' : '', o.allow206 ? '206' : ''].filter(Boolean).join(', ') || 'none');
  line('options-ttl', o.ttlMs === undefined ? 'forever' : `${o.ttlMs / 1000} s`);
  if (o.maxConnections !== undefined) line('max-connections', o.maxConnections);
  if (o.transferPreview.length) line('transfer-preview', o.transferPreview.join(', '));
  if (o.transferIgnore.length) line('transfer-ignore', o.transferIgnore.join(', '));
  if (o.transferComplete.length) line('transfer-complete', o.transferComplete.join(', '));
}

async function printResult(r: IcapSendResult, line: (l: string, v: unknown) => void): Promise<void> {
  line('status', `ICAP/1.0 ${r.status}`);
  line('istag', r.istag || '(none)');
  line('preview used', r.previewUsed ? 'yes' : 'no');
  if (r.kind === 'unmodified') line('outcome', '204 unmodified (the original passes)');
  else {
    let bytes = 0;
    if (r.body) for await (const chunk of r.body) bytes += (chunk as Buffer).length;
    const h = r.head;
    const start = h.kind === 'response' ? `HTTP/${h.version} ${h.status} ${h.reason ?? ''}`.trim() : `${h.method} ${h.target}`;
    line('outcome', `200 modified: ${start}, ${bytes} body bytes`);
  }
  const found = VIOLATION_HEADERS.filter((n) => r.headers.has(n));
  if (found.length === 0) line('violations', 'none');
  for (const n of found) line(n, r.headers.get(n));
}
