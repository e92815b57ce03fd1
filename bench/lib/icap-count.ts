// How many ICAP transactions a scenario's measured phase made, read from two sides: dlp-proxy's
// admin /metrics (dlp_proxy_icap_transactions_total and the verdict cache's hits, misses and
// single-flight joins) and, for squid, which has no such counter, c-icap's access log (one line per
// transaction: `DATE, CLIENT SERVER METHOD SERVICE STATUS`). Both are read before and after the
// phase; the difference is the phase's.
import fs from 'node:fs';
import http from 'node:http';

export interface ProxyCounters {
  transactions: number;
  hits: number;
  misses: number;
  joins: number;
}

/** Sum of every sample of `name` (all label sets) in a Prometheus text exposition. */
export function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

export function parseProxyCounters(text: string): ProxyCounters {
  return {
    transactions: sumMetric(text, 'dlp_proxy_icap_transactions_total'),
    hits: sumMetric(text, 'dlp_proxy_verdict_cache_hits_total'),
    misses: sumMetric(text, 'dlp_proxy_verdict_cache_misses_total'),
    joins: sumMetric(text, 'dlp_proxy_verdict_cache_joins_total'),
  };
}

/** Scrape dlp-proxy's admin listener once (bounded by a timeout). */
export function scrapeProxyCounters(adminPort: number, timeoutMs = 5000): Promise<ProxyCounters> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: adminPort, path: '/metrics', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => (res.statusCode === 200 ? resolve(parseProxyCounters(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`admin /metrics answered HTTP ${res.statusCode}`))));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`admin /metrics: no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

export function counterDelta(before: ProxyCounters, after: ProxyCounters): ProxyCounters {
  return { transactions: after.transactions - before.transactions, hits: after.hits - before.hits, misses: after.misses - before.misses, joins: after.joins - before.joins };
}

/** REQMOD and RESPMOD lines of a c-icap access log (OPTIONS are not transactions on a body). */
export function countCicapTransactions(logText: string): number {
  let n = 0;
  for (const line of logText.split('\n')) if (/ (?:REQMOD|RESPMOD) /.test(line)) n += 1;
  return n;
}

/** What is appended to a file from now on: `text()` reads it since construction. */
export class AppendedText {
  private readonly offset: number;

  constructor(private readonly file: string) {
    this.offset = fileSize(file);
  }

  text(): string {
    const end = fileSize(this.file);
    if (end <= this.offset) return '';
    const fd = fs.openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(end - this.offset);
      fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      return buffer.toString('latin1');
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Counts the transactions c-icap logs from now on: `count()` reads what was appended since. */
export class CicapLogCounter {
  private readonly appended: AppendedText;

  constructor(file: string) {
    this.appended = new AppendedText(file);
  }

  count(): number {
    return countCicapTransactions(this.appended.text());
  }
}

/**
 * Exchanges per worker in dlp-proxy's JSON log (access lines carry the worker's id in a cluster):
 * which workers the load reached. Sorted by worker id; empty when the lines name no worker.
 */
export function accessLinesPerWorker(logText: string): number[] {
  const counts = new Map<number, number>();
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{') || !line.includes('access')) continue;
    let entry: { log?: unknown; worker?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // a line cut by the end of the phase
    }
    if (entry.log === 'access' && typeof entry.worker === 'number') counts.set(entry.worker, (counts.get(entry.worker) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
