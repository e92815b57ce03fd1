// The behaviour every way of reaching the incident store must have, as one suite run against each
// (hono's common.case.test.ts pattern): the synchronous IncidentStore the thread runs, and the
// IncidentStoreThread the app and the cluster primary use. The factory opens a store on `dir`
// (fresh for each test unless the test reopens the same one).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentReader, IncidentRecord } from '../../src/incidents/index.js';
import { tempDir } from './temp-dir.js';

export interface ContractStore {
  write(records: IncidentRecord[]): Promise<void>;
  reader: IncidentReader;
  /** retention, size cap, vacuum policy, now */
  maintain(): Promise<void>;
  /** bytes on disk, database and WAL */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

export interface StoreOptions {
  dir: string;
  retentionDays: number;
  maxBytes: number;
}

export type ContractFactory = (options: StoreOptions) => Promise<ContractStore>;

const DAY = 86_400_000;
let counter = 0;

/** A record with every field set; `overrides` may also remove optional ones (undefined). */
export function incident(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  counter++;
  const record: IncidentRecord = {
    incident: `inc${String(counter).padStart(8, '0')}`,
    time: new Date(Date.now() - 60_000).toISOString(),
    client: '10.1.2.3',
    user: 'alice',
    method: 'POST',
    host: 'upload.example.com',
    path: '/files',
    direction: 'upload',
    rule: 'uploads',
    service: 'dlp',
    istag: '"dlp-1"',
    source: 'icap',
    violations: ['payment-card'],
    reason: 'card numbers',
    sizeBytes: 1234,
    sha256: 'ab'.repeat(32),
    action: 'block',
    ...overrides,
  };
  for (const key of Object.keys(record) as Array<keyof IncidentRecord>) if (record[key] === undefined) delete record[key];
  return record;
}

export function incidentStoreContract(name: string, factory: ContractFactory): void {
  describe(`incident store contract: ${name}`, () => {
    const open: ContractStore[] = [];
    const start = async (options: Partial<StoreOptions> = {}) => {
      const store = await factory({ dir: options.dir ?? tempDir('dlp-proxy-incidents-'), retentionDays: options.retentionDays ?? 90, maxBytes: options.maxBytes ?? 64 * 1024 * 1024 });
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('returns a record field for field, optional fields absent when they were', async () => {
      const s = await start();
      const full = incident();
      const bare = incident({ user: undefined, service: undefined, istag: undefined, reason: undefined, sha256: undefined, action: 'monitor', direction: 'download', violations: [] });
      await s.write([full, bare]);
      expect(await s.reader.get(full.incident)).toEqual(full);
      expect(await s.reader.get(bare.incident)).toEqual(bare);
      expect(await s.reader.get('nope')).toBeUndefined();
    });

    it('keeps every record of one incident id; get() leads to its block', async () => {
      const s = await start();
      const t = Date.now() - 10_000;
      const upload = incident({ incident: 'shared01', action: 'monitor', time: new Date(t).toISOString() });
      const download = incident({ incident: 'shared01', action: 'block', direction: 'download', time: new Date(t + 5).toISOString() });
      const later = incident({ incident: 'shared01', action: 'monitor', time: new Date(t + 9).toISOString() });
      await s.write([upload, download, later]);
      expect(await s.reader.get('shared01')).toEqual(download);
      expect(await s.reader.getAll('shared01')).toEqual([upload, download, later]);
    });

    it('finds records by each filter, newest first, with the total of all matches', async () => {
      const s = await start();
      const base = Date.now() - 3_600_000;
      const at = (min: number) => new Date(base + min * 60_000).toISOString();
      const records = [
        incident({ time: at(1), user: 'alice', client: '10.0.0.1', host: 'a.example', rule: 'uploads', direction: 'upload', action: 'block', violations: ['payment-card'] }),
        incident({ time: at(2), user: 'bob', client: '10.0.0.2', host: 'b.example', rule: 'uploads', direction: 'upload', action: 'monitor', violations: ['iban', 'payment-card'] }),
        incident({ time: at(3), user: undefined, client: '10.0.0.1', host: 'b.example', rule: 'downloads', direction: 'download', action: 'block', violations: ['eicar'] }),
        incident({ time: at(4), user: 'alice', client: '10.0.0.3', host: 'c.example', rule: 'downloads', direction: 'download', action: 'block', violations: ['eicar', 'iban'] }),
        incident({ time: at(5), user: 'bob', client: '10.0.0.2', host: 'a.example', rule: 'uploads', direction: 'upload', action: 'block', violations: ['us-ssn'] }),
      ];
      await s.write(records);
      const ids = async (filter: Record<string, unknown>) => {
        const page = await s.reader.query({ limit: 100, ...filter });
        expect(page.total).toBe(page.items.length);
        return page.items.map((r) => records.indexOf(records.find((x) => x.incident === r.incident)!));
      };
      expect(await ids({})).toEqual([4, 3, 2, 1, 0]);
      expect(await ids({ from: new Date(at(2)) })).toEqual([4, 3, 2, 1]);
      expect(await ids({ to: new Date(at(2)) })).toEqual([0]);
      expect(await ids({ from: new Date(at(2)), to: new Date(at(4)) })).toEqual([2, 1]);
      expect(await ids({ user: 'alice' })).toEqual([3, 0]);
      expect(await ids({ client: '10.0.0.2' })).toEqual([4, 1]);
      expect(await ids({ host: 'b.example' })).toEqual([2, 1]);
      expect(await ids({ rule: 'downloads' })).toEqual([3, 2]);
      expect(await ids({ direction: 'download' })).toEqual([3, 2]);
      expect(await ids({ action: 'monitor' })).toEqual([1]);
      expect(await ids({ violation: 'iban' })).toEqual([3, 1]);
      expect(await ids({ violation: 'iban', user: 'bob' })).toEqual([1]);
      expect(await ids({ violation: 'payment-card', from: new Date(at(2)) })).toEqual([1]);
      expect(await ids({ host: 'a.example', action: 'block', direction: 'upload', rule: 'uploads' })).toEqual([4, 0]);
      expect(await ids({ user: 'carol' })).toEqual([]);
    });

    it('pages newest first by cursor: every record exactly once, ties in the same millisecond included', async () => {
      const s = await start();
      const t = Date.now() - 100_000;
      const records: IncidentRecord[] = [];
      // 45 records on 15 instants, three per instant, two of each three under one incident id
      for (let i = 0; i < 45; i++) records.push(incident({ time: new Date(t + Math.floor(i / 3) * 1000).toISOString(), incident: `tie${String(Math.floor(i / 3)).padStart(3, '0')}${i % 3 === 2 ? 'b' : 'a'}` }));
      await s.write(records);
      const seen: IncidentRecord[] = [];
      let before = undefined as Parameters<IncidentReader['query']>[0]['before'];
      for (let pages = 0; pages < 20; pages++) {
        const page = await s.reader.query({ limit: 7, ...(before ? { before } : {}) });
        expect(page.total).toBe(45);
        seen.push(...page.items);
        if (!page.next) break;
        before = page.next;
      }
      expect(seen).toHaveLength(45);
      const times = seen.map((r) => Date.parse(r.time));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect([...seen].sort((a, b) => a.time.localeCompare(b.time) || a.incident.localeCompare(b.incident))).toEqual(
        [...records].sort((a, b) => a.time.localeCompare(b.time) || a.incident.localeCompare(b.incident)),
      );
      // the last page says so; a cursor from a filter keeps the filter's total
      const last = await s.reader.query({ limit: 45 });
      expect(last.next).toBeUndefined();
      const first = await s.reader.query({ limit: 2, violation: 'payment-card' });
      const second = await s.reader.query({ limit: 2, violation: 'payment-card', before: first.next! });
      expect(second.total).toBe(45);
      expect(second.items[0]!.time <= first.items[1]!.time).toBe(true);
    });

    it('refuses a malformed query with CLIENT_BAD_REQUEST, and filter values are data, never SQL', async () => {
      const s = await start();
      await s.write([incident({ user: "o'brien" }), incident({ user: 'alice' })]);
      for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { limit: 10, from: new Date('nope') }, { limit: 10, before: { time: 'yesterday', incident: 'x' } }]) {
        await expect(s.reader.query(bad as never)).rejects.toMatchObject({ code: 'CLIENT_BAD_REQUEST' });
      }
      await expect(s.reader.summary({ from: new Date(), to: new Date(Date.now() - 1) })).rejects.toMatchObject({ code: 'CLIENT_BAD_REQUEST' });
      await expect(s.reader.summary({ from: new Date(0), to: new Date() }, 1000)).rejects.toMatchObject({ code: 'CLIENT_BAD_REQUEST' });
      expect((await s.reader.query({ limit: 10, user: "' OR '1'='1" })).total).toBe(0);
      expect((await s.reader.query({ limit: 10, violation: "x') OR 1=1 --" })).total).toBe(0);
      expect((await s.reader.query({ limit: 10, user: "o'brien" })).items.map((r) => r.user)).toEqual(["o'brien"]);
      expect(await s.reader.get("' OR 1=1 --")).toBeUndefined();
    });

    it('summarises a period: counts per UTC day with zeros, top users, hosts, rules and violations', async () => {
      const s = await start();
      const today = Math.floor(Date.now() / DAY) * DAY;
      const records = [
        incident({ time: new Date(today - 3 * DAY + 1000).toISOString(), user: 'alice', host: 'a.example', rule: 'uploads', violations: ['payment-card'] }),
        incident({ time: new Date(today - 3 * DAY + 2000).toISOString(), user: 'alice', host: 'b.example', rule: 'uploads', violations: ['payment-card', 'iban'] }),
        incident({ time: new Date(today - 1 * DAY + 1000).toISOString(), user: 'bob', host: 'a.example', rule: 'downloads', violations: ['eicar'] }),
        incident({ time: new Date(today + 1000).toISOString(), user: undefined, host: 'a.example', rule: 'uploads', violations: ['payment-card'] }),
        // outside the period
        incident({ time: new Date(today - 6 * DAY).toISOString(), user: 'zed', host: 'z.example', rule: 'old', violations: ['old'] }),
      ];
      await s.write(records);
      const from = new Date(today - 4 * DAY);
      const to = new Date(today + DAY);
      const summary = await s.reader.summary({ from, to });
      const day = (n: number) => new Date(today - n * DAY).toISOString().slice(0, 10);
      expect(summary.from).toBe(from.toISOString());
      expect(summary.to).toBe(to.toISOString());
      expect(summary.perDay).toEqual([
        { day: day(4), count: 0 },
        { day: day(3), count: 2 },
        { day: day(2), count: 0 },
        { day: day(1), count: 1 },
        { day: day(0), count: 1 },
      ]);
      expect(summary.total).toBe(4);
      expect(summary.topUsers).toEqual([{ key: 'alice', count: 2 }, { key: 'bob', count: 1 }]);
      expect(summary.topHosts).toEqual([{ key: 'a.example', count: 3 }, { key: 'b.example', count: 1 }]);
      expect(summary.topRules).toEqual([{ key: 'uploads', count: 3 }, { key: 'downloads', count: 1 }]);
      expect(summary.topViolations).toEqual([{ key: 'payment-card', count: 3 }, { key: 'eicar', count: 1 }, { key: 'iban', count: 1 }]);
      expect((await s.reader.summary({ from, to }, 1)).topHosts).toEqual([{ key: 'a.example', count: 3 }]);
      // "all time" is a chart of the days the store can hold (90 days' retention), not 56 years of zeros
      const all = await s.reader.summary({ from: new Date(0), to: new Date(today + 400 * DAY) });
      expect(all.perDay.length).toBeGreaterThanOrEqual(91);
      expect(all.perDay.length).toBeLessThanOrEqual(93);
      expect(all.total).toBe(5);
    });

    it('deletes records past retentionDays, oldest first, and keeps the rest', async () => {
      const s = await start({ retentionDays: 7 });
      const old = [incident({ time: new Date(Date.now() - 30 * DAY).toISOString() }), incident({ time: new Date(Date.now() - 8 * DAY).toISOString() })];
      const kept = [incident({ time: new Date(Date.now() - 6 * DAY).toISOString() }), incident()];
      await s.write([...old, ...kept]);
      await s.maintain();
      const page = await s.reader.query({ limit: 10 });
      expect(page.items.map((r) => r.incident).sort()).toEqual(kept.map((r) => r.incident).sort());
      // their violation names went with them
      expect((await s.reader.summary({ from: new Date(0), to: new Date(Date.now() + DAY) })).topViolations).toEqual([{ key: 'payment-card', count: 2 }]);
    });

    it('stays under maxBytes, the oldest records deleted first and the newest kept', async () => {
      const maxBytes = 1024 * 1024;
      const s = await start({ maxBytes });
      const t = Date.now() - 3_600_000;
      let n = 0;
      // about three times the cap, in batches as the writer sends them; between retention runs the
      // file and its WAL may pass the cap by about one batch
      for (let batch = 0; batch < 120; batch++) {
        const records: IncidentRecord[] = [];
        for (let i = 0; i < 50; i++, n++) records.push(incident({ time: new Date(t + n * 100).toISOString(), path: `/files/${'x'.repeat(80)}/${n}`, user: `user${n % 97}`, host: `h${n % 113}.example` }));
        await s.write(records);
        expect(await s.sizeBytes()).toBeLessThanOrEqual(maxBytes * 1.1);
      }
      await s.maintain();
      expect(await s.sizeBytes()).toBeLessThanOrEqual(maxBytes);
      const page = await s.reader.query({ limit: 1000 });
      expect(page.total).toBeGreaterThan(500);
      expect(page.total).toBeLessThan(n);
      // newest kept, and what is kept is a suffix of the timeline: nothing newer was deleted before something older
      expect(page.items[0]!.path.endsWith(`/${n - 1}`)).toBe(true);
      const all: number[] = [];
      let before = undefined as Parameters<IncidentReader['query']>[0]['before'];
      do {
        const p = await s.reader.query({ limit: 1000, ...(before ? { before } : {}) });
        all.push(...p.items.map((r) => Number(r.path.split('/').pop())));
        before = p.next;
      } while (before);
      expect(all).toEqual(Array.from({ length: all.length }, (_, i) => n - 1 - i));
    });

    it('keeps its records across a restart, in a 0600 file in a 0700 directory', async () => {
      const dir = path.join(tempDir('dlp-proxy-incidents-'), 'nested', 'store');
      const first = await start({ dir });
      const records = [incident(), incident({ action: 'monitor' })];
      await first.write(records);
      await first.close();
      open.splice(open.indexOf(first), 1);
      const second = await start({ dir });
      expect((await second.reader.query({ limit: 10 })).items.map((r) => r.incident).sort()).toEqual(records.map((r) => r.incident).sort());
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(dir, 'incidents.sqlite')).mode & 0o777).toBe(0o600);
    });

    it('takes two writers on one file at once (WAL, busy timeout): every record of both is there', async () => {
      const dir = tempDir('dlp-proxy-incidents-');
      const a = await start({ dir });
      const b = await start({ dir });
      const batches = (tag: string) => Array.from({ length: 20 }, (_, i) => Array.from({ length: 50 }, (_, j) => incident({ incident: `${tag}${i}x${j}` })));
      await Promise.all([
        (async () => {
          for (const batch of batches('a')) await a.write(batch);
        })(),
        (async () => {
          for (const batch of batches('b')) await b.write(batch);
        })(),
      ]);
      expect((await a.reader.query({ limit: 1 })).total).toBe(2000);
      expect((await b.reader.query({ limit: 1 })).total).toBe(2000);
    });
  });
}
