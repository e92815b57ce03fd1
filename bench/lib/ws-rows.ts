// One WebSocket row of bench/websocket-ranges.ts: text messages of one size to the echo origin,
// directly or through dlp-proxy on a path its policy relays untouched or scans. Latency first
// (one connection, one message in flight), then throughput (N connections, one in flight each)
// with the proxy's and the ICAP service's CPU read from /proc and the ICAP transactions and
// verdict-cache hits from the proxy's /metrics over exactly that phase.
import WebSocket from 'ws';
import { openThroughProxy } from '../../test/support/ws-through-proxy.js';
import { counterDelta, scrapeProxyCounters } from './icap-count.js';
import { snapshot } from './proc-stats.js';
import type { WsMode, WsRow } from './websocket-ranges-report.js';
import { measureLatency, measureThroughput, messageSource, roundTrip } from './ws-echo-load.js';

export interface WsRowEnv {
  originPort: number;
  proxy: { pid: number; port: number; adminPort: number };
  icapPid: number;
  clients: number;
  warmupMs: number;
  latencyMs: number;
  /** a bound on the latency phase's messages, whatever its duration */
  latencyMaxMessages: number;
  throughputMs: number;
}

/** The origin path each mode goes to: the bench policy relays /relay/ untouched and scans the rest. */
export function wsUrl(originPort: number, mode: WsMode): string {
  return `ws://127.0.0.1:${originPort}/${mode === 'relay' ? 'relay' : 'scanned'}/chat`;
}

function openDirect(url: string, deflate: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * A client the way a browser reaches a ws:// origin behind a proxy: CONNECT, then the handshake
 * inside the tunnel (Chromium does this for ws://; the proxy decides the upgrade inside it).
 */
export function openClient(env: Pick<WsRowEnv, 'originPort' | 'proxy'>, mode: WsMode, deflate: boolean): Promise<WebSocket> {
  const url = wsUrl(env.originPort, mode);
  const opening = mode === 'direct' ? openDirect(url, deflate) : openThroughProxy(env.proxy.port, url, 'connect', { perMessageDeflate: deflate });
  return opening.then((ws) => {
    ws.on('error', () => undefined); // a failure shows as a close in roundTrip
    if (deflate && !ws.extensions.includes('permessage-deflate')) throw new Error(`permessage-deflate was not negotiated (extensions: "${ws.extensions}")`);
    return ws;
  });
}

export async function measureWsRow(env: WsRowEnv, sizeBytes: number, deflate: boolean, mode: WsMode): Promise<WsRow> {
  const row: WsRow = { sizeBytes, deflate, mode, status: 'ok' };
  const source = messageSource(sizeBytes, mode === 'scanned-cold');
  const open: WebSocket[] = [];
  try {
    const one = await openClient(env, mode, deflate);
    open.push(one);
    await measureLatency(one, source, env.warmupMs, Number.MAX_SAFE_INTEGER);
    row.latency = await measureLatency(one, source, env.latencyMs, env.latencyMaxMessages);
    open.push(...(await Promise.all(Array.from({ length: env.clients - 1 }, () => openClient(env, mode, deflate)))));
    await Promise.all(open.map((ws) => roundTrip(ws, source.next())));

    const viaProxy = mode !== 'direct';
    const [proxyCpu, icapCpu] = [viaProxy ? snapshot(env.proxy.pid, [env.proxy.pid]).cpuSeconds : 0, snapshot(env.icapPid, [env.icapPid]).cpuSeconds];
    const counters = viaProxy ? await scrapeProxyCounters(env.proxy.adminPort) : undefined;
    row.throughput = await measureThroughput(open, source, env.throughputMs);
    const perMessage = 1 / row.throughput.messages;
    if (viaProxy && counters) {
      row.proxyCpuMsPer1k = (snapshot(env.proxy.pid, [env.proxy.pid]).cpuSeconds - proxyCpu) * 1e6 * perMessage;
      row.icapCpuMsPer1k = (snapshot(env.icapPid, [env.icapPid]).cpuSeconds - icapCpu) * 1e6 * perMessage;
      const delta = counterDelta(counters, await scrapeProxyCounters(env.proxy.adminPort));
      row.icapTxPerMessage = delta.transactions * perMessage;
      row.cacheHitsPerMessage = delta.hits * perMessage;
    }
  } catch (err) {
    row.status = 'failed';
    row.reason = err instanceof Error ? err.message : String(err);
  } finally {
    for (const ws of open) ws.terminate();
  }
  return row;
}

/**
 * Proof that the two paths are what their rows say: a message with a card number is echoed on the
 * relay path and closes the scanned one with 1008 (RFC 6455 §7.4.1, policy violation).
 */
export async function probeWsPaths(env: Pick<WsRowEnv, 'originPort' | 'proxy'>): Promise<void> {
  const card = Buffer.from('payment card 4111 1111 1111 1111 for the booking');
  const relay = await openClient(env, 'relay', false);
  try {
    await roundTrip(relay, card);
  } finally {
    relay.terminate();
  }
  const scanned = await openClient(env, 'scanned-cold', false);
  try {
    const outcome = await roundTrip(scanned, card).then(
      () => 'the card was echoed',
      (err: Error) => err.message,
    );
    if (!outcome.startsWith('connection closed 1008')) throw new Error(`the scanned path did not refuse a card number: ${outcome}`);
  } finally {
    scanned.terminate();
  }
}
