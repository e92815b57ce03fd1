// A cluster worker's sink: each batch goes to the primary as one 'incidents' message and counts as
// taken once the primary acknowledges it (it has queued the records for its store). A batch the
// primary does not acknowledge within ACK_TIMEOUT_MS (it is gone, or the channel closed) fails
// and the worker's writer counts it dropped. The worker flushes before it exits, so a SIGHUP
// reload or a SIGTERM drain loses nothing that was recorded.
import { ProxyError } from '../core/errors.js';
import type { IncidentRecord } from './incident-record.js';
import type { IncidentSink } from './incident-writer.js';

export const ACK_TIMEOUT_MS = 10_000;

/** worker → primary */
export interface IncidentBatchMessage {
  type: 'incidents';
  id: number;
  records: IncidentRecord[];
}

/** primary → worker: the batch is queued for the store (records that did not fit were counted there) */
export interface IncidentAckMessage {
  type: 'incidents-ack';
  id: number;
}

export class IpcIncidentSink implements IncidentSink<IncidentRecord> {
  readonly #send: (message: IncidentBatchMessage) => Promise<void>;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (err: ProxyError) => void; timer: NodeJS.Timeout }>();
  #nextId = 0;

  /** `send` resolves once the message is written to the channel and rejects when it cannot be. */
  constructor(send: (message: IncidentBatchMessage) => Promise<void>) {
    this.#send = send;
  }

  write(records: IncidentRecord[]): Promise<void> {
    const id = ++this.#nextId;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(id, new ProxyError('INTERNAL', `the cluster primary did not acknowledge ${records.length} incident records within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS);
      this.#waiting.set(id, { resolve, reject, timer });
      this.#send({ type: 'incidents', id, records }).catch((err: unknown) => this.#settle(id, new ProxyError('INTERNAL', `cannot send incident records to the cluster primary: ${(err as Error).message}`, { cause: err })));
    });
  }

  /** The primary's 'incidents-ack'. */
  acknowledge(message: IncidentAckMessage): void {
    this.#settle(message.id);
  }

  #settle(id: number, err?: ProxyError): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    if (err) waiting.reject(err);
    else waiting.resolve();
  }
}
