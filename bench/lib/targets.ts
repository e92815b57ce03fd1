// Start what a scenario measures: nothing (direct to the origin), dlp-proxy (its config merged over
// the bench base; with the built-in ICAP service in a process of its own when asked; as one
// startApp process, or as `npm start` runs it, a cluster when `workers` > 1), squid (plain, ssl-bump, or adapting through the run's c-icap), or the bare
// node:http reference proxy. Each started target is registered with the run's stop-all, so an
// interrupted run leaves nothing behind.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, which } from '../../test/support/peers/common.js';
import type { Cicap } from '../../test/support/peers/cicap.js';
import { SQUID_CERTGEN, startSquid } from '../../test/support/peers/squid.js';
import { forkChild, onStopAll, type NodeChild } from './children.js';
import { startDlpProxy, type ProxyRunFiles } from './dlp-proxy.js';
import { startDlpProxyCli } from './dlp-proxy-cli.js';
import type { TlsMaterial } from './tls-material.js';
import type { CicapService, Scenario } from './types.js';

export interface TargetEnv {
  tls: TlsMaterial;
  proxyCaPem: string;
  files: ProxyRunFiles;
  /** The run's c-icap, started on first use and stopped at the end of the run. */
  cicap(): Promise<Cicap>;
}

export interface Started {
  pid?: number;
  proxyPort?: number;
  /** dlp-proxy's admin listener (its /metrics counts ICAP transactions). */
  adminPort?: number;
  /** c-icap's access log, when the target adapts through it without counters of its own (squid). */
  cicapAccessLog?: string;
  /** The run's c-icap (its main process), when the target scans through it. */
  cicapPid?: number;
  /** The built-in ICAP service's own process, when the scenario asked for one. */
  icapServicePid?: number;
  /** dlp-proxy's JSON log, when it names the worker of each exchange (a cluster). */
  logFile?: string;
  /** The CA the client must trust for HTTPS. */
  clientCa: string;
  /** IPC to the proxy child (dlp-proxy only). */
  request?<T>(type: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** Why the scenario cannot run on this machine at all, checked before anything is started. */
export function missing(scenario: Scenario): string | undefined {
  const target = scenario.target;
  if (target.kind !== 'squid') return undefined;
  if (!which('squid')) return 'squid is not installed (apt-get install squid-openssl)';
  if (target.bump && !fs.existsSync(SQUID_CERTGEN)) return `this squid cannot ssl-bump (${SQUID_CERTGEN} missing: install squid-openssl, not squid)`;
  return undefined;
}

export async function startTarget(scenario: Scenario, env: TargetEnv): Promise<Started> {
  const target = scenario.target;
  let cicap: Cicap | undefined;
  const cicapUrl = async (service: CicapService) => (cicap = await env.cicap()).url(service);
  switch (target.kind) {
    case 'direct':
      return { clientCa: env.tls.originCaPem, stop: async () => undefined };
    case 'dlp-proxy': {
      let service: NodeChild<{ port: number }> | undefined;
      const builtinIcapPort = async () => {
        service ??= await forkChild<{ port: number }>('built-in ICAP service', fileURLToPath(new URL('./icap-server-child.ts', import.meta.url)), []);
        return service.ready.port;
      };
      try {
        const doc = target.config ? await target.config({ freePort, cicapUrl, builtinIcapPort }) : {};
        // the cli launch has no IPC to the proxy (no CPU profile): it is `npm start` as shipped
        const proxy = target.launch === 'cli' ? await startDlpProxyCli(scenario.name, env.files, doc) : await startDlpProxy(scenario.name, env.files, doc);
        const stop = async () => {
          await proxy.stop();
          await service?.stop();
        };
        const request = 'request' in proxy ? <T,>(type: string, timeoutMs?: number) => proxy.request<T>(type, timeoutMs) : undefined;
        const logFile = target.launch === 'cli' ? proxy.logFile : undefined;
        return { pid: proxy.pid, proxyPort: proxy.port, adminPort: proxy.adminPort, icapServicePid: service?.pid, cicapPid: cicap?.pid, logFile, clientCa: env.proxyCaPem, request, stop };
      } catch (err) {
        await service?.stop();
        throw err;
      }
    }
    case 'node-proxy': {
      const args = [...(target.client === 'undici' ? ['--undici'] : []), ...(target.reqmod ? [await cicapUrl(target.reqmod)] : [])];
      const proxy = await forkChild<{ port: number }>('node-proxy', fileURLToPath(new URL('./node-proxy-child.mjs', import.meta.url)), args, { execArgv: process.env.BENCH_PROXY_NODE_FLAGS?.split(' ').filter(Boolean) ?? [] });
      return { pid: proxy.pid, proxyPort: proxy.ready.port, cicapPid: cicap?.pid, clientCa: env.tls.originCaPem, stop: () => proxy.stop() };
    }
    case 'squid': {
      const icap = target.icap;
      const squid = await startSquid({
        reqmod: icap?.reqmod ? await cicapUrl(icap.reqmod) : undefined,
        respmod: icap?.respmod ? await cicapUrl(icap.respmod) : undefined,
        bump: target.bump ? { caCertFile: env.tls.squidCaFile, caKeyFile: env.tls.squidCaKeyFile, originCaFile: env.tls.originCaFile } : undefined,
      });
      const unregister = onStopAll(() => squid.stop());
      const stop = async () => {
        unregister();
        await squid.stop();
      };
      return { pid: squid.pid, proxyPort: squid.port, clientCa: env.tls.squidCaPem, cicapAccessLog: cicap ? `${cicap.dir}/access.log` : undefined, cicapPid: cicap?.pid, stop };
    }
  }
}
