// /readyz in cluster mode, answered by the primary: the proxy port accepts connections, and every
// worker serving it reports its ICAP services ready. Each worker is asked (not one on behalf of
// all): each has its own ICAP pools and its own server health (a server one worker suspended may
// be up for another), and node:cluster may hand the next connection to any of them. A worker that
// does not answer in time makes the instance not ready and is named in `missing`.
import { probePort, type Readiness, type ServiceReadiness } from './readiness.js';

export interface WorkerReadiness {
  worker: number;
  pid: number | undefined;
  ready: boolean;
  services: Record<string, ServiceReadiness>;
}

export interface ClusterReadiness extends Readiness {
  workers: WorkerReadiness[];
  /** workers that did not answer within the timeout */
  missing: Array<{ worker: number; pid: number | undefined }>;
}

export interface ClusterReadinessInput {
  proxyHost: string;
  proxyPort: number;
  timeoutMs: number;
  /** the workers serving the proxy port, each with its pending answer (undefined = no answer) */
  workers: ReadonlyArray<{ worker: number; pid: number | undefined; services: Promise<Record<string, ServiceReadiness> | undefined> }>;
}

export async function checkClusterReadiness(input: ClusterReadinessInput): Promise<ClusterReadiness> {
  const [proxy, answers] = await Promise.all([
    probePort(input.proxyHost, input.proxyPort, input.timeoutMs),
    Promise.all(input.workers.map(async (w) => ({ worker: w.worker, pid: w.pid, services: await w.services }))),
  ]);
  const workers: WorkerReadiness[] = [];
  const missing: ClusterReadiness['missing'] = [];
  for (const a of answers) {
    if (a.services) workers.push({ worker: a.worker, pid: a.pid, ready: Object.values(a.services).every((s) => s.ready), services: a.services });
    else missing.push({ worker: a.worker, pid: a.pid });
  }
  const ready = proxy.ready && workers.length > 0 && missing.length === 0 && workers.every((w) => w.ready);
  return {
    ready,
    proxy: proxy.ready && workers.length === 0 ? { ready: false, reason: 'no worker is serving the proxy port' } : proxy,
    config: { ready: true },
    services: summary(workers),
    workers,
    missing,
  };
}

/** Per service, one worker's view: the first that is not ready, else the first. */
function summary(workers: readonly WorkerReadiness[]): Record<string, ServiceReadiness> {
  const out: Record<string, ServiceReadiness> = {};
  for (const w of workers) {
    for (const [name, s] of Object.entries(w.services)) {
      if (!out[name] || (out[name].ready && !s.ready)) out[name] = s;
    }
  }
  return out;
}
