// The few messages between the cluster primary and its workers (over the node:cluster IPC
// channel). The worker speaks first, so no message is sent before it listens for the answer.
//
//   worker ──hello──► primary ──config──► worker ──ready(port) | failed(message)──► primary
//   primary ──drain──► worker: stop accepting, finish in-flight exchanges, exit 0

export interface ConfigMessage {
  type: 'config';
  /** the YAML text the primary validated, re-validated by the worker (one source of truth) */
  text: string;
  source: string;
  /** how many workers share the machine (per-worker shares of ICAP Max-Connections) */
  workerCount: number;
}

export type PrimaryMessage = ConfigMessage | { type: 'drain' };

export type WorkerMessage = { type: 'hello' } | { type: 'ready'; port: number } | { type: 'failed'; message: string };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && ['hello', 'ready', 'failed'].includes((value as { type?: unknown }).type as string);
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return typeof value === 'object' && value !== null && ['config', 'drain'].includes((value as { type?: unknown }).type as string);
}
