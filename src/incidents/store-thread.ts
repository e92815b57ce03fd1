// The store's thread (node:worker_threads): owns the one better-sqlite3 connection, answers the
// main thread's requests in order, and runs retention every maintenanceMs, and the size cap
// whenever a batch found the store over it, in chunks with the event loop turning between them,
// so a write or a report waits at most one chunk.
import { setImmediate as turn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { ProxyError } from '../core/errors.js';
import { IncidentStore, type IncidentStoreOptions } from './incident-store.js';
import type { StoreReply, StoreRequest } from './store-protocol.js';

export interface StoreThreadData extends IncidentStoreOptions {
  maintenanceMs: number;
}

const port = parentPort!;

function reply(message: StoreReply): void {
  port.postMessage(message);
}

function failure(err: unknown): { code: string; message: string } {
  return err instanceof ProxyError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function run(options: StoreThreadData): void {
  let store: IncidentStore;
  try {
    store = new IncidentStore(options);
  } catch (err) {
    reply({ type: 'failed', ...failure(err) });
    port.close();
    return;
  }
  let closed = false;
  let maintaining: Promise<void> | undefined;

  const maintain = async () => {
    let expired = 0;
    for (let n = store.expireChunk(); n > 0 && !closed; n = store.expireChunk()) {
      expired += n;
      await turn();
    }
    let evicted = 0;
    for (let n = store.evictChunk(); n > 0 && !closed; n = store.evictChunk()) {
      evicted += n;
      await turn();
    }
    if (closed) return;
    store.vacuumAndCheckpoint();
    store.optimize();
    reply({ type: 'maintained', expired, evicted, sizeBytes: store.sizeBytes() });
  };
  const runMaintenance = (): Promise<void> =>
    (maintaining ??= maintain()
      .catch((err: unknown) => reply({ type: 'maintenance-failed', ...failure(err) }))
      .finally(() => (maintaining = undefined)));
  const timer = setInterval(() => void runMaintenance(), options.maintenanceMs);

  const answer = (request: Exclude<StoreRequest, { type: 'close' | 'maintain' }>): StoreReply => {
    switch (request.type) {
      case 'write': {
        const { written, evicted } = store.insert(request.records);
        // a cut begun by this batch goes on between the next requests
        if (evicted > 0) void runMaintenance();
        return { type: 'written', id: request.id, written, evicted, sizeBytes: store.sizeBytes() };
      }
      case 'query':
        return { type: 'result', id: request.id, value: store.query(request.query) };
      case 'get':
        return { type: 'result', id: request.id, value: store.get(request.incident) };
      case 'get-all':
        return { type: 'result', id: request.id, value: store.getAll(request.incident) };
      case 'summary':
        return { type: 'result', id: request.id, value: store.summary(request.range, request.top) };
    }
  };

  port.on('message', (request: StoreRequest) => {
    if (request.type === 'close') {
      closed = true;
      clearInterval(timer);
      void (maintaining ?? Promise.resolve()).finally(() => {
        store.close();
        port.close();
      });
    } else if (request.type === 'maintain') {
      void runMaintenance().then(() => reply({ type: 'result', id: request.id, value: undefined }));
    } else {
      try {
        reply(answer(request));
      } catch (err) {
        reply({ type: 'error', id: request.id, ...failure(err) });
      }
    }
  });
  reply({ type: 'open', file: store.file, sizeBytes: store.sizeBytes() });
  void runMaintenance();
}

run(workerData as StoreThreadData);
