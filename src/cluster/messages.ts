// The few messages between the cluster primary and its workers (over the node:cluster IPC
// channel). The worker speaks first, so no message is sent before it listens for the answer.
//
//   worker ──hello──► primary ──config──► worker ──ready(port) | failed(message)──► primary
//   primary ──drain──► worker: stop accepting, finish in-flight exchanges, send its final
//                              metrics (last-metrics), exit 0
//   primary ──metrics-request(id)──► worker ──metrics(id)──► primary        (each /metrics scrape)
//   primary ──readiness-request(id)──► worker ──readiness(id)──► primary    (each /readyz)
//   worker ──incidents(id, records)──► primary ──incidents-ack(id)──► worker  (every incidents.batchMs
//                              with violations; the primary owns the incident store)
//   worker ──verdict-ops(batch)──► primary ──verdict-answers(batch)──► worker  (the host's one
//                              verdict store and single-flight, verdict/verdict-ipc-protocol.ts)
//   primary ──icap-istags──► worker: the built-in service's ISTag changed (a data set reload, a clamd
//                              signature update): its services ask OPTIONS again at once
//   primary ──patience-relays──► worker: the live workers' patience relay ports (a worker's ready
//                              names its own; sent again whenever a worker starts or is gone)
import type { ServiceReadiness } from '../admin/index.js';
import type { IncidentAckMessage, IncidentBatchMessage } from '../incidents/index.js';
import type { MetricsSnapshot } from '../metrics/index.js';
import type { VerdictAnswersMessage, VerdictOpsMessage } from '../verdict/index.js';

export interface ConfigMessage {
  type: 'config';
  /** the YAML text the primary validated, re-validated by the worker (one source of truth) */
  text: string;
  source: string;
  /** how many workers share the machine (per-worker shares of ICAP Max-Connections) */
  workerCount: number;
  /** the primary's own listeners (admin, built-in ICAP service): workers never forward to them */
  ownListeners: OwnListener[];
  /** what a worker's patience relay listener asks of the others (made once per primary) */
  relaySecret: string;
}

export interface OwnListener {
  role: 'admin' | 'icap-server';
  host: string;
  port: number;
}

export type PrimaryMessage =
  | ConfigMessage
  | { type: 'drain' }
  | { type: 'metrics-request'; id: number }
  | { type: 'readiness-request'; id: number; timeoutMs: number }
  | { type: 'icap-istags'; istags: Record<string, string> }
  | { type: 'patience-relays'; ports: Record<string, number> }
  | IncidentAckMessage
  | VerdictAnswersMessage;

/** A worker's answer to a request of the primary, matched by id. */
export type WorkerAnswerMessage =
  | { type: 'metrics'; id: number; metrics: MetricsSnapshot }
  | { type: 'readiness'; id: number; services: Record<string, ServiceReadiness> };

export type WorkerMessage =
  | { type: 'hello' }
  | { type: 'ready'; port: number; relayPort?: number }
  | { type: 'failed'; message: string }
  | { type: 'last-metrics'; metrics: MetricsSnapshot }
  | IncidentBatchMessage
  | VerdictOpsMessage
  | WorkerAnswerMessage;

const WORKER_TYPES = new Set(['hello', 'ready', 'failed', 'last-metrics', 'metrics', 'readiness', 'incidents', 'verdict-ops']);
const PRIMARY_TYPES = new Set(['config', 'drain', 'metrics-request', 'readiness-request', 'icap-istags', 'patience-relays', 'incidents-ack', 'verdict-answers']);

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && WORKER_TYPES.has((value as { type?: unknown }).type as string);
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return typeof value === 'object' && value !== null && PRIMARY_TYPES.has((value as { type?: unknown }).type as string);
}
