// /readyz: ready when the proxy port accepts connections, the config is loaded (it is, or the app
// would not run), and every ICAP service either has fresh OPTIONS (RFC 3507 §4.10: fetched within
// Options-TTL, refreshed here when missing or expired) or fails open on connect errors, so that
// traffic flows without it. The body says which check failed and why.
import net from 'node:net';

export interface ServerHealth {
  server: string;
  state: 'up' | 'suspended';
  since: number;
  failures: number;
  lastError?: string | undefined;
}

export interface ReadinessService {
  icap: { options(): Promise<{ fetchedAt: number; isExpired(): boolean; istag: string | undefined }>; serverStates?(): ServerHealth[] };
  config: { failMode: 'open' | 'closed'; failModes: { connect?: 'open' | 'closed' | undefined } };
}

export interface ReadinessInput {
  proxyHost: string;
  proxyPort: number;
  services: ReadonlyMap<string, ReadinessService>;
  timeoutMs: number;
}

export interface ServiceReadiness {
  ready: boolean;
  failMode: 'open' | 'closed';
  optionsAgeSeconds?: number;
  istag?: string;
  reason?: string;
  /** each ICAP server's health (suspended after repeated failures, revived by probes) */
  servers?: Array<{ server: string; state: 'up' | 'suspended'; sinceSeconds: number; failures: number; lastError?: string }>;
}

export interface Readiness {
  ready: boolean;
  proxy: { ready: boolean; reason?: string };
  config: { ready: true };
  services: Record<string, ServiceReadiness>;
}

export async function checkReadiness(input: ReadinessInput): Promise<Readiness> {
  const [proxy, byName] = await Promise.all([probePort(input.proxyHost, input.proxyPort, input.timeoutMs), checkServicesReadiness(input.services, input.timeoutMs)]);
  const ready = proxy.ready && Object.values(byName).every((s) => s.ready);
  return { ready, proxy, config: { ready: true }, services: byName };
}

/** Every ICAP service's readiness by name (what a cluster worker reports to the primary). */
export async function checkServicesReadiness(services: ReadonlyMap<string, ReadinessService>, timeoutMs: number): Promise<Record<string, ServiceReadiness>> {
  return Object.fromEntries(await Promise.all([...services].map(async ([name, service]) => [name, await serviceReadiness(service, timeoutMs)] as const)));
}

async function serviceReadiness(service: ReadinessService, timeoutMs: number): Promise<ServiceReadiness> {
  const readiness = await optionsReadiness(service, timeoutMs);
  const states = service.icap.serverStates?.();
  if (!states) return readiness;
  const now = Date.now();
  const servers = states.map((s) => ({
    server: s.server,
    state: s.state,
    sinceSeconds: Math.round((now - s.since) / 1000),
    failures: s.failures,
    ...(s.lastError ? { lastError: s.lastError } : {}),
  }));
  return { ...readiness, servers };
}

async function optionsReadiness(service: ReadinessService, timeoutMs: number): Promise<ServiceReadiness> {
  // Unreachable = connect errors: the fail mode that decides whether traffic still flows.
  const failMode = service.config.failModes.connect ?? service.config.failMode;
  let timer: NodeJS.Timeout | undefined;
  try {
    const options = await Promise.race([
      service.icap.options(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no OPTIONS answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const ageSeconds = Math.round((Date.now() - options.fetchedAt) / 100) / 10;
    const fresh = !options.isExpired();
    return {
      ready: fresh || failMode === 'open',
      failMode,
      optionsAgeSeconds: ageSeconds,
      ...(options.istag ? { istag: options.istag } : {}),
      ...(fresh ? {} : { reason: 'OPTIONS expired (past Options-TTL) and could not be refreshed' }),
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      ready: failMode === 'open',
      failMode,
      reason: failMode === 'open' ? `OPTIONS failed (${why}); the service fails open, traffic passes unscanned` : `OPTIONS failed (${why}); the service fails closed, its traffic is refused`,
    };
  } finally {
    clearTimeout(timer);
  }
}

export function probePort(host: string, port: number, timeoutMs: number): Promise<{ ready: boolean; reason?: string }> {
  const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const socket = net.connect({ host: target, port });
    const finish = (result: { ready: boolean; reason?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ready: false, reason: `proxy port ${port} did not accept a connection within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => finish({ ready: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ready: false, reason: `proxy port ${port}: ${err.code ?? err.message}` }));
  });
}
