// What the app and the cluster primary run: the batch writer in front of the store's thread (or,
// in a cluster worker, in front of the IPC link to the primary), fed by the verdict events of this
// process (subscribe) or by records other processes sent (record). close() stops taking records,
// writes what is queued and closes the store: nothing recorded before close() is lost.
import { events } from '../core/events.js';
import type { ProxyError } from '../core/errors.js';
import { isViolation, violationFields } from '../log/violation-fields.js';
import { boundRecord, isIncidentRecord, toIncidentRecord, type IncidentRecord } from './incident-record.js';
import type { IncidentReader } from './incident-reader.js';
import { IncidentStoreThread, type StoreCounts } from './incident-store-thread.js';
import { IncidentWriter, type DropReason, type IncidentSink } from './incident-writer.js';

/** config.incidents (enabled aside). */
export interface IncidentsConfig {
  dir: string;
  retentionDays: number;
  maxBytes: number;
  queueSize: number;
  batchMs: number;
}

export interface IncidentStats {
  /** records waiting or in the batch in flight */
  queued: number;
  /** records this process wrote to the store */
  written: number;
  /** records this process handed to the cluster primary */
  forwarded: number;
  /** queue_full, write_failed, closed (the writer's reasons) and malformed (a worker's record that failed its check) */
  dropped: Record<DropReason | 'malformed', number>;
  /** the store this process owns; absent in a cluster worker */
  store: StoreCounts | undefined;
}

export interface RecorderOptions {
  /** a cluster worker: records go to the primary (IpcIncidentSink), no store is opened here */
  forward?: IncidentSink<IncidentRecord>;
  /** a batch that could not be written, a retention run that failed (the app logs them) */
  onError?: (err: unknown, what: string) => void;
  /** retention runs this often (tests make it short) */
  maintenanceMs?: number;
}

export class IncidentRecorder {
  /** the store's reader; undefined when records go to another process */
  readonly reader: IncidentReader | undefined;
  readonly #store: IncidentStoreThread | undefined;
  readonly #writer: IncidentWriter<IncidentRecord>;
  readonly #forwarding: boolean;
  #unsubscribe: (() => void) | undefined;
  #malformed = 0;

  static async open(config: IncidentsConfig, options: RecorderOptions = {}): Promise<IncidentRecorder> {
    if (options.forward) return new IncidentRecorder(config, undefined, options);
    const store = await IncidentStoreThread.open({
      dir: config.dir,
      retentionDays: config.retentionDays,
      maxBytes: config.maxBytes,
      ...(options.maintenanceMs !== undefined ? { maintenanceMs: options.maintenanceMs } : {}),
      onMaintenanceError: (err: ProxyError) => options.onError?.(err, 'retention'),
    });
    return new IncidentRecorder(config, store, options);
  }

  private constructor(config: IncidentsConfig, store: IncidentStoreThread | undefined, options: RecorderOptions) {
    this.#store = store;
    this.reader = store;
    this.#forwarding = store === undefined;
    const sink: IncidentSink<IncidentRecord> = store ?? options.forward!;
    this.#writer = new IncidentWriter(sink, {
      queueSize: config.queueSize,
      batchMs: config.batchMs,
      onWriteError: (err, records) => options.onError?.(err, `a batch of ${records} incident records was lost`),
    });
  }

  /** Queue one record (O(1), no I/O); false when it was dropped (counted). */
  record(record: IncidentRecord): boolean {
    return this.#writer.enqueue(record);
  }

  /** Records a cluster worker sent: each is checked (one bad record must not fail its batch's transaction). */
  recordBatch(values: unknown): void {
    for (const value of Array.isArray(values) ? values : []) {
      if (isIncidentRecord(value)) this.#writer.enqueue(boundRecord(value));
      else this.#malformed++;
    }
  }

  /** Record every block and monitored violation of this process (events.verdict), until close(). */
  subscribe(): void {
    this.#unsubscribe ??= events.verdict.subscribe((event) => {
      if (isViolation(event)) this.#writer.enqueue(toIncidentRecord(violationFields(event)));
    });
  }

  stats(): IncidentStats {
    const { queued, sent, dropped } = this.#writer.stats();
    return { queued, written: this.#forwarding ? 0 : sent, forwarded: this.#forwarding ? sent : 0, dropped: { ...dropped, malformed: this.#malformed }, store: this.#store?.counts() };
  }

  /** Write what is queued now (a cluster worker before it exits, tests before they read). */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    await this.#writer.close();
    await this.#store?.close();
  }
}
