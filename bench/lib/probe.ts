// One request through a forward proxy (absolute-form target), for scenario probes: bounded by a
// timeout, the body read whole (probes fetch small things).
import http from 'node:http';

export function fetchThroughProxy(proxyPort: number, originPort: number, path: string, timeoutMs = 10_000): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const authority = `127.0.0.1:${originPort}`;
    const req = http.get({ host: '127.0.0.1', port: proxyPort, path: `http://${authority}${path}`, headers: { host: authority }, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from the proxy within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}
