// The store contract against both ways in: the synchronous IncidentStore (what the thread runs)
// and IncidentStoreThread (what the app and the cluster primary use, across the thread boundary).
import { describe, expect, it } from 'vitest';
import { IncidentStore } from '../../../src/incidents/index.js';
import { IncidentStoreThread } from '../../../src/incidents/incident-store-thread.js';
import { incident, incidentStoreContract } from '../../support/incident-store-contract.js';
import { tempDir } from '../../support/temp-dir.js';

incidentStoreContract('IncidentStore (synchronous)', async (options) => {
  const store = new IncidentStore(options);
  let closed = false;
  return {
    write: async (records) => void store.insert(records),
    reader: {
      query: async (q) => store.query(q),
      get: async (id) => store.get(id),
      getAll: async (id) => store.getAll(id),
      summary: async (range, top) => store.summary(range, top),
    },
    maintain: async () => void store.maintain(),
    sizeBytes: async () => store.sizeBytes(),
    close: async () => {
      if (!closed) store.close();
      closed = true;
    },
  };
});

incidentStoreContract('IncidentStoreThread (worker thread)', async (options) => {
  const store = await IncidentStoreThread.open(options);
  return {
    write: async (records) => void (await store.write(records)),
    reader: store,
    maintain: () => store.maintain(),
    sizeBytes: async () => store.counts().sizeBytes,
    close: () => store.close(),
  };
});

describe('IncidentStoreThread', () => {
  it('refuses to start on a directory it cannot use, naming incidents.dir', async () => {
    const file = `${tempDir('dlp-proxy-incidents-')}/a-file`;
    await import('node:fs').then((fs) => fs.writeFileSync(file, 'not a directory'));
    await expect(IncidentStoreThread.open({ dir: file, retentionDays: 1, maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('incidents.dir') });
  });

  it('refuses a file that is not a SQLite database', async () => {
    const dir = tempDir('dlp-proxy-incidents-');
    await import('node:fs').then((fs) => fs.writeFileSync(`${dir}/incidents.sqlite`, 'x'.repeat(4096)));
    await expect(IncidentStoreThread.open({ dir, retentionDays: 1, maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('answers the requests sent before close(), then refuses', async () => {
    const store = await IncidentStoreThread.open({ dir: tempDir('dlp-proxy-incidents-'), retentionDays: 1, maxBytes: 1 << 20 });
    const record = incident();
    const written = store.write([record]);
    const read = store.get(record.incident);
    await store.close();
    expect(await written).toBe(1);
    expect(await read).toEqual(record);
    await expect(store.query({ limit: 1 })).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
