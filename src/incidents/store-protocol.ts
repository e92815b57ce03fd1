// The messages between the main thread and the store's thread (store-thread.ts). Requests carry
// an id that their answer repeats; 'maintained' is sent unasked after each retention run.
//
//   main ──write(id, records)──► thread ──written(id, counts, size) | error(id)──► main
//   main ──query|get|get-all|summary(id)──► thread ──result(id, value) | error(id)──► main
//   thread ──open(file, size) | failed(code, message)──► main            (once, at start)
//   main ──close──► thread: the requests before it are answered, then the file is closed
import type { IncidentRecord } from './incident-record.js';
import type { IncidentQuery } from './incident-reader.js';

export type StoreRequest =
  | { type: 'write'; id: number; records: IncidentRecord[] }
  | { type: 'query'; id: number; query: IncidentQuery }
  | { type: 'get'; id: number; incident: string }
  | { type: 'get-all'; id: number; incident: string }
  | { type: 'summary'; id: number; range: { from: Date; to: Date }; top: number | undefined }
  | { type: 'maintain'; id: number }
  | { type: 'close' };

export type StoreReply =
  | { type: 'open'; file: string; sizeBytes: number }
  | { type: 'failed'; code: string; message: string }
  | { type: 'written'; id: number; written: number; evicted: number; sizeBytes: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'maintained'; expired: number; evicted: number; sizeBytes: number }
  | { type: 'maintenance-failed'; code: string; message: string };
