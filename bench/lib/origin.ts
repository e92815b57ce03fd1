// Start the run's origin (bench/lib/origin-child.ts) in a child process. A separate process rather
// than one in the load generator: on a 2-core machine an in-process origin would share the load
// generator's event loop and cap the "direct" ceiling at half of what the origin can serve.
import { fileURLToPath } from 'node:url';
import { forkChild, type NodeChild } from './children.js';
import type { TlsMaterial } from './tls-material.js';

export interface OriginReady {
  httpPort: number;
  httpsPort: number;
}

export type OriginProcess = NodeChild<OriginReady>;

export function startOrigin(tls: TlsMaterial): Promise<OriginProcess> {
  return forkChild<OriginReady>('origin', fileURLToPath(new URL('./origin-child.ts', import.meta.url)), [tls.originCertFile, tls.originKeyFile]);
}
