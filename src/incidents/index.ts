// The incident store: every block and monitored violation recorded with the fields of the
// violation log line, in one SQLite file (better-sqlite3, WAL) under incidents.dir, with a
// retention period and a size cap. Writes are batched off the exchange path and done in a worker
// thread; a full queue drops and counts. In cluster mode the primary owns the store and the
// workers send their records over IPC. IncidentReader is what the admin reports read.
export type { IncidentRecord } from './incident-record.js';
export { isIncidentRecord, toIncidentRecord } from './incident-record.js';
export type { IncidentCount, IncidentCursor, IncidentPage, IncidentQuery, IncidentReader, IncidentSummary } from './incident-reader.js';
export { MAX_QUERY_LIMIT } from './incident-reader.js';
export { IncidentRecorder, type IncidentsConfig, type IncidentStats, type RecorderOptions } from './incident-recorder.js';
export { IncidentStore, STORE_FILE, type IncidentStoreOptions } from './incident-store.js';
export { IpcIncidentSink, type IncidentAckMessage, type IncidentBatchMessage } from './ipc-incident-sink.js';
export type { DropReason } from './incident-writer.js';
