// Issue 15's bench: the incident store's write throughput, and its query latency with 1 million
// incidents stored.
//  1. Writes: batches of 200 records (what incidents.batchMs = 200 makes of 1,000 violations a
//     second), each in one transaction, straight into IncidentStore (the thread's work) and through
//     IncidentStoreThread (the app's path: structured clone, postMessage, the reply), with the main
//     thread's event-loop utilisation meanwhile (what recording costs the thread carrying traffic).
//  2. A store filled to --records (default 1,000,000) over 90 days: users, hosts and clients drawn
//     skewed (a few frequent, many rare), 8 rules, 6 violation names.
//  3. Reads on it: a first page (50) for each filter, a page deep in the keyset, get, getAll, and the
//     summary over 1, 7, 30 and 90 days; each repeated, p50 and p95, from the synchronous store (the
//     thread's own time) and, for a few, through the thread.
//  4. Retention: deleting a day's records; the size cap: cutting the store by 5 %.
// Run: npm run bench:incidents [-- --quick] [--records 1000000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { newIncidentId } from '../src/enforce/incident-id.js';
import { IncidentStore, type IncidentQuery, type IncidentRecord } from '../src/incidents/index.js';
import { IncidentStoreThread } from '../src/incidents/incident-store-thread.js';
import { writeStandaloneReport } from './lib/standalone-report.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, records: { type: 'string' } } });
const quick = values.quick;
const RECORDS = Number(values.records ?? (quick ? 20_000 : 1_000_000));
const WRITE_RECORDS = quick ? 4_000 : 100_000;
const REPEAT = quick ? 3 : 20;
const BATCH = 200;
const DAY = 86_400_000;
const DAYS = 90;
const GiB = 1024 ** 3;

/** Deterministic pseudo-random numbers (mulberry32), so every run stores the same incidents. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VIOLATIONS = [['payment-card'], ['payment-card', 'iban'], ['iban'], ['us-ssn'], ['private-key'], ['eicar'], ['keyword:project-x']];
const RULES = ['uploads', 'downloads', 'webmail', 'paste-sites', 'cloud-storage', 'chat', 'dev-tools', 'social'];

function makeRecords(count: number, start: number, span: number, rnd: () => number): IncidentRecord[] {
  const skewed = (n: number) => Math.floor(n * rnd() ** 3);
  const out: IncidentRecord[] = [];
  for (let i = 0; i < count; i++) {
    const time = start + Math.floor((i / count) * span);
    const download = rnd() < 0.3;
    const user = skewed(2000);
    out.push({
      incident: newIncidentId(time),
      time: new Date(time).toISOString(),
      client: `10.${skewed(20)}.${skewed(250)}.${(user % 250) + 1}`,
      ...(rnd() < 0.9 ? { user: `user${user}@corp.example` } : {}),
      method: download ? 'GET' : 'POST',
      host: `h${skewed(5000)}.example.com`,
      path: `/api/v1/files/${Math.floor(rnd() * 1e6)}`,
      direction: download ? 'download' : 'upload',
      rule: RULES[skewed(RULES.length)]!,
      service: download ? 'av' : 'dlp',
      istag: download ? '"av-2026120601"' : '"dlp-2026120601"',
      source: rnd() < 0.6 ? 'icap' : 'cache',
      violations: download ? ['eicar'] : VIOLATIONS[skewed(VIOLATIONS.length - 1)]!,
      sizeBytes: Math.floor(rnd() * 10_000_000),
      sha256: Math.floor(rnd() * 2 ** 52).toString(16).padStart(64, '0'),
      action: rnd() < 0.8 ? 'block' : 'monitor',
    });
  }
  return out;
}

function stats(samples: number[]): { p50: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-bench-incidents-'));
const lines: string[] = [];
const loadAtStart = os.loadavg()[0]!;

try {
  // 1. write throughput
  const rnd = random(15);
  const now = Date.now();
  const writeSet = makeRecords(WRITE_RECORDS, now - DAY, DAY, rnd);
  const batches = Array.from({ length: WRITE_RECORDS / BATCH }, (_, i) => writeSet.slice(i * BATCH, (i + 1) * BATCH));

  const direct = new IncidentStore({ dir: path.join(tempRoot, 'direct'), retentionDays: DAYS, maxBytes: GiB });
  const batchMs: number[] = [];
  let t = performance.now();
  for (const batch of batches) {
    const b = performance.now();
    direct.insert(batch);
    batchMs.push(performance.now() - b);
  }
  const directRate = WRITE_RECORDS / ((performance.now() - t) / 1000);
  direct.close();

  const threaded = await IncidentStoreThread.open({ dir: path.join(tempRoot, 'thread'), retentionDays: DAYS, maxBytes: GiB });
  const elu = performance.eventLoopUtilization();
  t = performance.now();
  // one batch in flight at a time, as the batch writer sends them
  for (const batch of batches) await threaded.write(batch);
  const threadRate = WRITE_RECORDS / ((performance.now() - t) / 1000);
  const mainElu = performance.eventLoopUtilization(elu);
  const mainMsPer1000 = (mainElu.active / WRITE_RECORDS) * 1000;
  await threaded.close();

  const b = stats(batchMs);
  lines.push(
    '',
    `Measured at load average ${loadAtStart.toFixed(2)} (start), records as the proxy writes them (the violation log fields), ${os.cpus()[0]?.model ?? 'unknown CPU'}.`,
    '',
    '## Writes',
    '',
    `${WRITE_RECORDS.toLocaleString('en')} records in batches of ${BATCH}, one transaction each (what incidents.batchMs = 200 makes of 1,000 violations a second), into a fresh store.`,
    '',
    '| path | records/s | batch p50 ms | batch p95 ms | main thread busy, ms per 1,000 records |',
    '|---|--:|--:|--:|--:|',
    `| IncidentStore.insert (the store thread's own work) | ${Math.round(directRate).toLocaleString('en')} | ${ms(b.p50)} | ${ms(b.p95)} | |`,
    `| IncidentStoreThread.write (the app's path, one batch in flight) | ${Math.round(threadRate).toLocaleString('en')} | | | ${ms(mainMsPer1000)} |`,
    '',
    `At 1,000 violations a second the store's thread is busy about ${Math.round((1000 / directRate) * 100)} % of one core; the thread carrying traffic spends ${ms(mainMsPer1000)} ms a second handing the batches over.`,
  );

  // 2. one million
  const big = new IncidentStore({ dir: path.join(tempRoot, 'million'), retentionDays: DAYS, maxBytes: 4 * GiB });
  const fillRnd = random(1);
  const fillStart = now - DAYS * DAY;
  const CHUNK = 10_000;
  t = performance.now();
  for (let done = 0; done < RECORDS; done += CHUNK) {
    const n = Math.min(CHUNK, RECORDS - done);
    const records = makeRecords(n, fillStart + (done / RECORDS) * DAYS * DAY, (n / RECORDS) * DAYS * DAY, fillRnd);
    for (let i = 0; i < n; i += 5_000) big.insert(records.slice(i, i + 5_000));
  }
  const fillS = (performance.now() - t) / 1000;
  big.optimize();
  big.vacuumAndCheckpoint();
  const size = big.sizeBytes();
  lines.push(
    '',
    `## Reads with ${RECORDS.toLocaleString('en')} incidents stored`,
    '',
    `Filled over ${DAYS} days in ${fillS.toFixed(0)} s (batches of 5,000): ${(size / 1024 ** 2).toFixed(0)} MiB on disk, ${Math.round(size / RECORDS)} bytes per record with its indexes. Users, hosts and clients are drawn skewed (a few frequent, many rare), so a filter on a frequent value matches many records. Each row: ${REPEAT} runs, the first page (limit 50, newest first) and its total.`,
    '',
    '| read | matches | p50 ms | p95 ms |',
    '|---|--:|--:|--:|',
  );
  const sample = big.query({ limit: 1 }).items[0]!;
  const rare = big.query({ limit: 1, user: 'user1999@corp.example' }).total > 0 ? 'user1999@corp.example' : 'user1500@corp.example';
  const queries: Array<[string, Omit<IncidentQuery, 'limit'>]> = [
    ['no filter', {}],
    ['last 24 h', { from: new Date(now - DAY), to: new Date(now) }],
    ['user, frequent', { user: 'user0@corp.example' }],
    ['user, rare', { user: rare }],
    ['client', { client: '10.0.0.1' }],
    ['host', { host: 'h0.example.com' }],
    ['rule', { rule: 'webmail' }],
    ['direction: download', { direction: 'download' }],
    ['action: monitor', { action: 'monitor' }],
    ['violation: iban', { violation: 'iban' }],
    ['violation: private-key, last 7 days', { violation: 'private-key', from: new Date(now - 7 * DAY) }],
    ['user + violation', { user: 'user0@corp.example', violation: 'payment-card' }],
    ['host + action + last 30 days', { host: 'h0.example.com', action: 'block', from: new Date(now - 30 * DAY) }],
  ];
  for (const [name, filter] of queries) {
    const runs: number[] = [];
    let total = 0;
    for (let i = 0; i < REPEAT; i++) {
      const q = performance.now();
      total = big.query({ limit: 50, ...filter }).total;
      runs.push(performance.now() - q);
    }
    const s = stats(runs);
    lines.push(`| ${name} | ${total.toLocaleString('en')} | ${ms(s.p50)} | ${ms(s.p95)} |`);
  }
  const timed = (name: string, fn: () => unknown, detail = '') => {
    const runs: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const q = performance.now();
      fn();
      runs.push(performance.now() - q);
    }
    const s = stats(runs);
    lines.push(`| ${name} | ${detail} | ${ms(s.p50)} | ${ms(s.p95)} |`);
  };
  // page 100 of the unfiltered list, reached by its cursor
  let cursor = big.query({ limit: 50 }).next;
  for (let i = 0; i < 98 && cursor; i++) cursor = big.query({ limit: 50, before: cursor }).next;
  timed('page 100 (keyset cursor)', () => big.query({ limit: 50, before: cursor! }), '');
  timed('get(incident)', () => big.get(sample.incident), '1');
  timed('getAll(incident)', () => big.getAll(sample.incident), '1');
  for (const days of [1, 7, 30, 90]) {
    const range = { from: new Date(now - days * DAY), to: new Date(now) };
    const total = big.summary(range).total;
    timed(`summary, ${days} day${days === 1 ? '' : 's'} (per day, top 10 users, hosts, rules, violations)`, () => big.summary(range), total.toLocaleString('en'));
  }

  // 4. retention and the size cap
  const expireNow = now + DAY; // one more day past: the oldest day's records are due
  t = performance.now();
  let expired = 0;
  for (let n = big.expireChunk(expireNow); n > 0; n = big.expireChunk(expireNow)) expired += n;
  const expireMs = performance.now() - t;
  big.close();
  const used = new IncidentStore({ dir: path.join(tempRoot, 'million'), retentionDays: DAYS + 2, maxBytes: 4 * GiB });
  const usedBytes = used.usedBytes();
  used.close();
  // a cap whose budget (maxBytes less the WAL's reserve, incident-store.ts) is the pages in use now:
  // past 95 % of it, cut to 90 %, what crossing incidents.maxBytes costs once
  const reserve = (m: number) => Math.max(16, Math.min(1000, Math.floor(m / 20 / 4096))) * 4096;
  const cap = usedBytes + reserve(usedBytes + reserve(usedBytes));
  const capped = new IncidentStore({ dir: path.join(tempRoot, 'million'), retentionDays: DAYS + 2, maxBytes: cap });
  t = performance.now();
  let evicted = 0;
  let longestRoundMs = 0;
  for (let r = performance.now(), n = capped.evictChunk(); n > 0; r = performance.now(), n = capped.evictChunk()) {
    evicted += n;
    longestRoundMs = Math.max(longestRoundMs, performance.now() - r);
  }
  const evictMs = performance.now() - t;
  capped.close();
  lines.push(
    '',
    '## Retention and the size cap',
    '',
    '| step | records deleted | ms |',
    '|---|--:|--:|',
    `| retention: the oldest day past retentionDays, chunks of 2,000 | ${expired.toLocaleString('en')} | ${ms(expireMs)} |`,
    `| size cap crossed (pages in use past 95 % of the cap's budget, cut to 90 %) | ${evicted.toLocaleString('en')} | ${ms(evictMs)} |`,
    '',
    `Both run in the store's thread, in chunks of one transaction each (at most 2,000 records, the longest size-cap round here ${ms(longestRoundMs)} ms): a batch or a report waits at most one chunk.`,
  );
} finally {
  fs.rmSync(tempRoot, { recursive: true, force: true });
}

writeStandaloneReport('incidents', 'Incident store: write throughput and query latency (issue 15)', lines, quick);
