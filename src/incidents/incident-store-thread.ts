// The main thread's side of the store's thread: the IncidentReader the admin reports use, and the
// write() the batch writer calls. From compiled JavaScript the thread loads store-thread.js; from
// TypeScript sources (tests, tsx) it registers tsx inside the thread first (as icap-server/start.ts).
import { Worker } from 'node:worker_threads';
import { ERROR_TABLE, ProxyError, type ErrorCode } from '../core/errors.js';
import type { IncidentRecord } from './incident-record.js';
import type { IncidentPage, IncidentQuery, IncidentReader, IncidentSummary } from './incident-reader.js';
import type { IncidentStoreOptions } from './incident-store.js';
import type { StoreReply, StoreRequest } from './store-protocol.js';
import type { StoreThreadData } from './store-thread.js';

/** Retention runs this often (and once at start). */
export const MAINTENANCE_MS = 60_000;
/** A thread that has not closed its file this long after being asked is terminated. */
const CLOSE_TIMEOUT_MS = 30_000;

export interface StoreCounts {
  /** bytes on disk, database and WAL, as of the last batch or retention run */
  sizeBytes: number;
  /** records deleted past the retention period */
  expired: number;
  /** records deleted to stay under the size cap */
  evicted: number;
}

type Pending = { resolve: (reply: StoreReply) => void; reject: (err: ProxyError) => void };

function spawn(workerData: StoreThreadData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './store-thread.ts' : './store-thread.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

function asProxyError(code: string, message: string): ProxyError {
  return new ProxyError(code in ERROR_TABLE ? (code as ErrorCode) : 'INTERNAL', message);
}

export class IncidentStoreThread implements IncidentReader {
  readonly file: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  readonly #counts: StoreCounts;
  /** told when a retention run fails (the app logs it); the next run tries again */
  readonly #onMaintenanceError: ((err: ProxyError) => void) | undefined;
  #nextId = 0;
  #gone: ProxyError | undefined;
  #closing: Promise<void> | undefined;

  /** Start the thread and open the file; rejects with the thread's CONFIG_INVALID when it cannot. */
  static async open(options: IncidentStoreOptions & { maintenanceMs?: number; onMaintenanceError?: (err: ProxyError) => void }): Promise<IncidentStoreThread> {
    const worker = spawn({ dir: options.dir, retentionDays: options.retentionDays, maxBytes: options.maxBytes, maintenanceMs: options.maintenanceMs ?? MAINTENANCE_MS });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const listeners: { error?: (err: Error) => void; exit?: (code: number) => void; message?: (reply: StoreReply) => void } = {};
    try {
      const opened = await new Promise<{ file: string; sizeBytes: number }>((resolve, reject) => {
        listeners.error = (err) => reject(new ProxyError('INTERNAL', `incident store thread failed: ${err.message}`, { cause: err }));
        listeners.exit = (code) => reject(new ProxyError('INTERNAL', `incident store thread exited with code ${code} before opening`));
        listeners.message = (reply) => {
          if (reply.type === 'open') resolve(reply);
          else if (reply.type === 'failed') reject(asProxyError(reply.code, reply.message));
          else reject(new ProxyError('INTERNAL', `incident store thread said ${reply.type} before opening`));
        };
        worker.once('error', listeners.error).once('exit', listeners.exit).once('message', listeners.message);
      });
      // only our own listeners: Worker keeps its port referenced through listener hooks of its own
      worker.off('error', listeners.error!).off('exit', listeners.exit!);
      return new IncidentStoreThread(worker, exited, opened, options.onMaintenanceError);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
  }

  private constructor(worker: Worker, exited: Promise<void>, opened: { file: string; sizeBytes: number }, onMaintenanceError: ((err: ProxyError) => void) | undefined) {
    this.#worker = worker;
    this.#exited = exited;
    this.file = opened.file;
    this.#counts = { sizeBytes: opened.sizeBytes, expired: 0, evicted: 0 };
    this.#onMaintenanceError = onMaintenanceError;
    worker.on('message', (reply: StoreReply) => this.#reply(reply));
    // A crash of the thread fails what waits on it and every later call; it never takes the process down.
    worker.on('error', (err) => this.#fail(new ProxyError('INTERNAL', `incident store thread failed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => this.#fail(new ProxyError('INTERNAL', `incident store thread exited (${code})`)));
  }

  counts(): StoreCounts {
    return { ...this.#counts };
  }

  /** One batch in one transaction; the number written. */
  async write(records: IncidentRecord[]): Promise<number> {
    const reply = await this.#request({ type: 'write', id: 0, records });
    return reply.type === 'written' ? reply.written : 0;
  }

  query(query: IncidentQuery): Promise<IncidentPage> {
    return this.#value({ type: 'query', id: 0, query });
  }

  get(incident: string): Promise<IncidentRecord | undefined> {
    return this.#value({ type: 'get', id: 0, incident });
  }

  getAll(incident: string): Promise<IncidentRecord[]> {
    return this.#value({ type: 'get-all', id: 0, incident });
  }

  summary(range: { from: Date; to: Date }, top?: number): Promise<IncidentSummary> {
    return this.#value({ type: 'summary', id: 0, range, top });
  }

  /** Run retention and the size cap now (tests; the thread runs them every maintenanceMs). */
  async maintain(): Promise<void> {
    await this.#request({ type: 'maintain', id: 0 });
  }

  /** Answer what was asked before, close the file (checkpointed), end the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#gone) this.#worker.postMessage({ type: 'close' } satisfies StoreRequest);
      const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    })();
    return this.#closing;
  }

  async #value<T>(request: StoreRequest & { id: number }): Promise<T> {
    const reply = await this.#request(request);
    return (reply as { value: T }).value;
  }

  #request(request: StoreRequest & { id: number }): Promise<StoreReply> {
    if (this.#gone) return Promise.reject(this.#gone);
    if (this.#closing) return Promise.reject(new ProxyError('INTERNAL', 'incident store closed'));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#worker.postMessage({ ...request, id });
      } catch (err) {
        // a value that cannot be cloned (a caller's object with functions in it)
        this.#pending.delete(id);
        reject(new ProxyError('CLIENT_BAD_REQUEST', `incident store: cannot send the request: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  #reply(reply: StoreReply): void {
    if (reply.type === 'maintained') {
      this.#counts.expired += reply.expired;
      this.#counts.evicted += reply.evicted;
      this.#counts.sizeBytes = reply.sizeBytes;
      return;
    }
    if (reply.type === 'maintenance-failed') {
      this.#onMaintenanceError?.(asProxyError(reply.code, `incident retention failed: ${reply.message}`));
      return;
    }
    if (!('id' in reply)) return;
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (reply.type === 'error') {
      pending.reject(asProxyError(reply.code, reply.message));
      return;
    }
    if (reply.type === 'written') {
      this.#counts.evicted += reply.evicted;
      this.#counts.sizeBytes = reply.sizeBytes;
    }
    pending.resolve(reply);
  }

  #fail(err: ProxyError): void {
    this.#gone ??= err;
    for (const pending of this.#pending.values()) pending.reject(this.#gone);
    this.#pending.clear();
  }
}
