// Cluster mode (node:cluster): `workers: N` proxy processes on one port, the CA and the built-in
// ICAP service once in the primary, SIGHUP reload (validated; workers replaced one at a time) and
// SIGTERM drain (in-flight exchanges finish up to shutdown.drainTimeoutMs, exit 0).
// runCluster() runs the primary until it is stopped; runClusterWorker() is each worker's body.
import cluster from 'node:cluster';
import { ClusterPrimary, type ClusterPrimaryOptions } from './cluster-primary.js';

export { ClusterPrimary, type ClusterPrimaryOptions } from './cluster-primary.js';
export { runClusterWorker, workerConfig } from './cluster-worker.js';

/** True in a process forked by the cluster primary. */
export const isClusterWorker = (): boolean => cluster.isWorker;

/** Run the primary until SIGTERM or SIGINT has drained every worker; the exit code. */
export async function runCluster(options: ClusterPrimaryOptions): Promise<number> {
  const primary = new ClusterPrimary(options);
  await primary.start();
  process.on('SIGHUP', () => void primary.reload());
  const stop = (signal: NodeJS.Signals) => {
    options.logger.info({ log: 'cluster', signal }, 'stopping');
    void primary.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await primary.done();
  return 0;
}
