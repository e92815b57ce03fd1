// The rows of bench/websocket-ranges.ts and their two tables. Ratios are taken within one group
// (message size × compression) against the unscanned relay of that group, so they compare runs of
// the same minute on the same machine.
import type { LatencyResult, ThroughputResult } from './ws-echo-load.js';

export type WsMode = 'direct' | 'relay' | 'scanned-cold' | 'scanned-warm';

export const WS_MODE_LABEL: Record<WsMode, string> = {
  direct: 'direct (no proxy)',
  relay: 'unscanned relay',
  'scanned-cold': 'scanned, cold',
  'scanned-warm': 'scanned, warm',
};

export interface WsRow {
  sizeBytes: number;
  deflate: boolean;
  mode: WsMode;
  status: 'ok' | 'failed';
  reason?: string;
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  /** proxy CPU over the throughput phase, per 1000 messages (undefined: no proxy) */
  proxyCpuMsPer1k?: number;
  /** the ICAP service's CPU over the same phase, per 1000 messages */
  icapCpuMsPer1k?: number;
  /** ICAP transactions and verdict-cache hits per message over the same phase */
  icapTxPerMessage?: number;
  cacheHitsPerMessage?: number;
}

export interface RangeRow {
  downloads: 'scanned' | 'not scanned';
  request: string;
  /** the Range header the client sent ('' for none) */
  range: string;
  status: 'ok' | 'failed';
  reason?: string;
  clientBytes?: number;
  ttfbMs?: number;
  ttlbMs?: number;
  /** file bytes the origin sent for this request, and the Range headers it saw */
  originBytes?: number;
  originRanges?: string[];
  /** the proxy's RSS once started, before its warm-up download */
  proxyRssStartedBytes?: number;
  proxyRssBeforeBytes?: number;
  proxyRssPeakBytes?: number;
  proxyCpuSeconds?: number;
  icapCpuSeconds?: number;
  icapTransactions?: number;
  cacheHits?: number;
}

const MiB = 1024 * 1024;
const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '' : value.toFixed(digits));
const times = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '' : `${value.toFixed(2)}×`);
const sizeLabel = (bytes: number) => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`);
const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** value / the same value of the group's unscanned relay; undefined when either is missing. */
export function versusRelay(rows: readonly WsRow[], row: WsRow, value: (r: WsRow) => number | undefined): number | undefined {
  const relay = rows.find((r) => r.mode === 'relay' && r.sizeBytes === row.sizeBytes && r.deflate === row.deflate && r.status === 'ok');
  if (!relay || row.status !== 'ok') return undefined;
  const [mine, base] = [value(row), value(relay)];
  return mine === undefined || base === undefined || base === 0 ? undefined : mine / base;
}

export function renderWsTable(rows: readonly WsRow[], clients: number): string[] {
  const lines = [
    `| message | permessage-deflate | path | p50 ms | p99 ms | msg/s, ${clients} clients | p99 ms under load | proxy CPU ms / 1k msg | ICAP service CPU ms / 1k msg | ICAP tx / msg | cache hits / msg | p50 × relay | msg/s × relay | CPU × relay |`,
    '|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const head = `| ${sizeLabel(r.sizeBytes)} text | ${r.deflate ? 'on' : 'off'} | ${WS_MODE_LABEL[r.mode]} |`;
    if (r.status !== 'ok') {
      lines.push(`${head} ${[`failed: ${escape(r.reason ?? 'unknown')}`, ...Array<string>(10).fill('')].join(' | ')} |`);
      continue;
    }
    const cells = [
      fixed(r.latency?.p50Ms, 2),
      fixed(r.latency?.p99Ms, 2),
      fixed(r.throughput?.perSec, 0),
      fixed(r.throughput?.p99Ms, 1),
      fixed(r.proxyCpuMsPer1k, 0),
      fixed(r.icapCpuMsPer1k, 0),
      fixed(r.icapTxPerMessage, 2),
      fixed(r.cacheHitsPerMessage, 2),
      times(versusRelay(rows, r, (x) => x.latency?.p50Ms)),
      times(versusRelay(rows, r, (x) => x.throughput?.perSec)),
      times(versusRelay(rows, r, (x) => x.proxyCpuMsPer1k)),
    ];
    lines.push(`${head} ${cells.join(' | ')} |`);
  }
  return lines;
}

export function renderRangeTable(rows: readonly RangeRow[]): string[] {
  const lines = [
    '| downloads | request | Range sent | bytes to client | file MiB the origin sent | Range at the origin | first byte s | last byte s | proxy RSS started → before → peak MiB | proxy CPU s | ICAP service CPU s | ICAP tx / cache hits |',
    '|---|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const head = `| ${r.downloads} | ${r.request} | ${r.range === '' ? 'none' : `\`${r.range}\``} |`;
    if (r.status !== 'ok') {
      lines.push(`${head} ${[`failed: ${escape(r.reason ?? 'unknown')}`, ...Array<string>(8).fill('')].join(' | ')} |`);
      continue;
    }
    const originRange = r.originRanges === undefined ? '' : r.originRanges.length === 0 ? 'none (whole file)' : r.originRanges.map((h) => `\`${h}\``).join(', ');
    const rss = [r.proxyRssStartedBytes, r.proxyRssBeforeBytes, r.proxyRssPeakBytes].every((v) => v !== undefined)
      ? [r.proxyRssStartedBytes!, r.proxyRssBeforeBytes!, r.proxyRssPeakBytes!].map((v) => Math.round(v / MiB)).join(' → ')
      : '';
    const cells = [
      r.clientBytes === undefined ? '' : r.clientBytes.toLocaleString('en-US'),
      fixed(r.originBytes === undefined ? undefined : r.originBytes / MiB, 1),
      originRange,
      fixed(r.ttfbMs === undefined ? undefined : r.ttfbMs / 1000, 3),
      fixed(r.ttlbMs === undefined ? undefined : r.ttlbMs / 1000, 3),
      rss,
      fixed(r.proxyCpuSeconds, 2),
      fixed(r.icapCpuSeconds, 2),
      r.icapTransactions === undefined ? '' : `${r.icapTransactions} / ${r.cacheHits ?? 0}`,
    ];
    lines.push(`${head} ${cells.join(' | ')} |`);
  }
  return lines;
}
