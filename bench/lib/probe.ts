// Probes run before a scenario's load: one request through a forward proxy (absolute-form target),
// bounded by a timeout, the body read whole (probes fetch small things). `probeScanning` checks that
// a scanned scenario really scans: a sample the service must block is blocked (403) and a clean one
// passes, so a row never reports the speed of a proxy that lets everything through unscanned.
import http from 'node:http';

export interface ProbeAnswer {
  status: number;
  body: Buffer;
}

export function fetchThroughProxy(proxyPort: number, originPort: number, path: string, timeoutMs = 10_000, upload?: string): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const authority = `127.0.0.1:${originPort}`;
    const headers: http.OutgoingHttpHeaders = { host: authority };
    if (upload !== undefined) Object.assign(headers, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(upload) });
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: upload === undefined ? 'GET' : 'POST', path: `http://${authority}${path}`, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', done);
      // squid relays c-icap's block page (which has no length) chunked and then cuts it off: the
      // status has arrived, and that is what a probe asks
      res.once('error', done);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from the proxy within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(upload);
  });
}

/** A test card number (Luhn-valid, the 4111… test PAN) that every DLP service of the bench blocks. */
const CARD_SAMPLE = 'invoice paid with card 4111111111111111 today\n';

/**
 * Why the proxy at `proxyPort` does not scan `direction` (undefined when it does): a download of
 * the EICAR test file, or an upload carrying a card number, must be refused with 403; a clean
 * download or upload must pass with 200.
 */
export async function probeScanning(proxyPort: number | undefined, originPort: number, direction: 'upload' | 'download'): Promise<string | undefined> {
  if (proxyPort === undefined) return 'needs a proxy';
  const bad = direction === 'download' ? await fetchThroughProxy(proxyPort, originPort, '/eicar') : await fetchThroughProxy(proxyPort, originPort, '/upload', 10_000, CARD_SAMPLE);
  if (bad.status !== 403) return `the ${direction === 'download' ? 'EICAR test file' : 'card-number upload'} passed unblocked (HTTP ${bad.status}): this target does not scan ${direction}s`;
  const clean = direction === 'download' ? await fetchThroughProxy(proxyPort, originPort, '/bytes/1024') : await fetchThroughProxy(proxyPort, originPort, '/upload', 10_000, 'quarterly report draft\n');
  return clean.status === 200 ? undefined : `a clean ${direction} was refused (HTTP ${clean.status}): the scanner is not answering`;
}
