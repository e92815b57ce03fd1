// The batch writer: records wait in a bounded queue and go to their sink (the store's thread, or
// the cluster primary over IPC) every batchMs, all that waited in one batch, one batch at a time.
// enqueue() is O(1) and does no I/O, so recording a violation never slows its exchange; a record
// that finds queueSize records waiting or in flight is dropped and counted, as the webhooks do.
// flush() and close() send what waits and resolve once the sink has taken it.

export type DropReason = 'queue_full' | 'write_failed' | 'closed';

export interface IncidentSink<T> {
  /** Take one batch; resolves once it is stored (or handed to the process that stores it). */
  write(records: T[]): Promise<unknown>;
}

export interface WriterStats {
  /** waiting, and in the batch in flight */
  queued: number;
  /** records the sink took */
  sent: number;
  dropped: Record<DropReason, number>;
}

export class IncidentWriter<T> {
  readonly #sink: IncidentSink<T>;
  readonly #queueSize: number;
  readonly #batchMs: number;
  #queue: T[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;
  #sent = 0;
  readonly #dropped: Record<DropReason, number> = { queue_full: 0, write_failed: 0, closed: 0 };
  readonly #onWriteError: ((err: unknown, records: number) => void) | undefined;

  constructor(sink: IncidentSink<T>, options: { queueSize: number; batchMs: number; onWriteError?: (err: unknown, records: number) => void }) {
    this.#sink = sink;
    this.#queueSize = options.queueSize;
    this.#batchMs = options.batchMs;
    this.#onWriteError = options.onWriteError;
  }

  /** Queue one record; false (and a count) when queueSize records already wait or the writer is closed. */
  enqueue(record: T): boolean {
    if (this.#closed) {
      this.#dropped.closed++;
      return false;
    }
    if (this.#queue.length + this.#inFlight >= this.#queueSize) {
      this.#dropped.queue_full++;
      return false;
    }
    this.#queue.push(record);
    this.#schedule();
    return true;
  }

  stats(): WriterStats {
    return { queued: this.#queue.length + this.#inFlight, sent: this.#sent, dropped: { ...this.#dropped } };
  }

  /** Send everything queued now; resolves when the sink took it (or failed, counted). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing || this.#queue.length > 0) {
      if (this.#writing) await this.#writing;
      else this.#writing = this.#write();
    }
  }

  /** No record is taken from now on; what was queued is sent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #schedule(): void {
    if (this.#timer || this.#writing) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#write();
    }, this.#batchMs);
  }

  async #write(): Promise<void> {
    const batch = this.#queue;
    if (batch.length === 0) {
      this.#writing = undefined;
      return;
    }
    this.#queue = [];
    this.#inFlight = batch.length;
    try {
      await this.#sink.write(batch);
      this.#sent += batch.length;
    } catch (err) {
      this.#dropped.write_failed += batch.length;
      this.#onWriteError?.(err, batch.length);
    } finally {
      this.#inFlight = 0;
      this.#writing = undefined;
    }
    // what arrived while this batch was written waits its own batchMs
    if (this.#queue.length > 0 && !this.#closed) this.#schedule();
  }
}
