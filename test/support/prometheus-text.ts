// Reading /metrics as a scraper does: the Prometheus text exposition format (one sample a line,
// `name{label="value",...} value`, # lines for HELP and TYPE), so a test asserts on what an
// operator's Prometheus would store, from one parser instead of one per test file.
import http from 'node:http';

export type Labels = Record<string, string>;

const SAMPLE = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i;
const LABEL = /([a-z_]+)="([^"]*)"/gi;

/** The values of `name`'s samples whose labels include every one of `labels`, in exposition order. */
export function samples(text: string, name: string, labels: Labels = {}): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(LABEL)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) values.push(Number(m[3]));
  }
  return values;
}

/** The sum of those samples: 0 when there is none. */
export function total(text: string, name: string, labels: Labels = {}): number {
  return samples(text, name, labels).reduce((sum, v) => sum + v, 0);
}

/**
 * GET /metrics from an admin listener on 127.0.0.1, on a connection of its own (nothing kept
 * alive to outlive the process under test); rejects unless the answer is 200.
 */
export function scrapeMetrics(adminPort: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: adminPort, path: '/metrics', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics answered ${res.statusCode}: ${body.slice(0, 200)}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** total() of one scrape of the admin listener on `adminPort`. */
export async function metricTotal(adminPort: number, name: string, labels: Labels = {}): Promise<number> {
  return total(await scrapeMetrics(adminPort), name, labels);
}
