// The vocabulary of the bench: a scenario is what to start (target and its config) and what load to
// drive through it; a result is one row of the table. Scenario files under bench/scenarios/ only
// declare data; bench/lib/run-scenario.ts does the starting, measuring and stopping.

/** A YAML-shaped config document for dlp-proxy, merged over the bench's base config. */
export type ConfigDoc = Record<string, unknown>;

/** The services of the run's c-icap: srv_cfg_filter as `dlp`, virus_scan (with ClamAV) as `av`. */
export type CicapService = 'dlp' | 'av';

export interface SetupContext {
  /** A free TCP port on 127.0.0.1, for peers a scenario's config must name (e.g. an ICAP port). */
  freePort(): Promise<number>;
  /** The icap:// URL of a service of the run's c-icap, started (with its clamd) on first use. */
  cicapUrl(service: CicapService): Promise<string>;
  /**
   * The port of the built-in ICAP service in a process of its own, started for this scenario
   * (its RSS and CPU are then reported beside the proxy's).
   */
  builtinIcapPort(): Promise<number>;
}

export type Target =
  /** The load goes straight to the origin: the ceiling on this machine. */
  | { kind: 'direct' }
  /**
   * dlp-proxy in a child process, with `config` merged over the bench base (passthrough policy,
   * `workers: 1`). By default one process running startApp (bench/lib/proxy-child.mjs: IPC for CPU
   * profiles and memory); `launch: 'cli'` runs `node dist/src/main.js start` as `npm start` does,
   * so `workers: N` > 1 is a real node:cluster primary with N worker processes
   * (bench/lib/dlp-proxy-cli.ts).
   */
  | { kind: 'dlp-proxy'; config?: (ctx: SetupContext) => ConfigDoc | Promise<ConfigDoc>; launch?: 'cli' }
  /**
   * squid-openssl in the foreground; `bump` turns on ssl-bump with a CA of the run; `icap` adapts
   * through the run's c-icap (REQMOD and/or RESPMOD), as squid is deployed with c-icap.
   */
  | { kind: 'squid'; bump?: boolean; icap?: { reqmod?: CicapService; respmod?: CicapService } }
  /**
   * The smallest node:http forward proxy (bench/lib/node-proxy-child.mjs): what Node alone costs;
   * with `reqmod`, every request body is held and sent by REQMOD to that service of the run's c-icap
   * first (the floor of a scanning proxy in Node); with `client: 'undici'`, origins are reached
   * through undici's dispatcher as dlp-proxy reaches them (the floor of dlp-proxy's own stack).
   */
  | { kind: 'node-proxy'; reqmod?: CicapService; client?: 'undici' };

export interface Load {
  protocol: 'http' | 'https';
  /** The origin path; the origin serves /bytes/N, /unique/N, /stream/N, /eicar (bench/lib/origin-child.ts). */
  path: string;
  connections: number;
  /**
   * Who sends the load: autocannon (plain HTTP only; the default there) or bench/lib/node-load.ts
   * (node:http; the only one for HTTPS through a proxy, and cheaper than autocannon on large bodies).
   */
  generator?: 'autocannon' | 'node';
  /** Per-request timeout of the node generator (default 10 s): short where requests are known to stall. */
  requestTimeoutMs?: number;
  /**
   * POST a text body of `sizeBytes` with every request (autocannon only); `unique` makes each body
   * differ (a cold verdict cache), otherwise every request sends the same one (warm).
   */
  upload?: { sizeBytes: number; unique: boolean };
  /**
   * One transfer of `sizeBytes` instead of a timed load (bench/lib/transfer-load.ts): a download of
   * /stream/N or an upload; the row reports its throughput and the proxy's peak RSS. A quick run
   * caps the size (bench/run.ts --transfer-size).
   */
  transfer?: { direction: 'upload' | 'download'; sizeBytes: number };
  /**
   * Uploads of `bodies` distinct text bodies of `sizeBytes`, each on a connection of its own (so
   * node:cluster deals them to every worker): the warm-up sends each body once, the measured phase
   * sends each again `times` times in a row (bench/lib/repeat-upload-load.ts). With one verdict
   * cache per host every repeat is a hit, whichever worker takes it.
   */
  repeatUploads?: { bodies: number; sizeBytes: number; times: number };
  /**
   * One download of /stream/N from an origin throttled to `rateBytesPerSec`, timed at the client:
   * first body byte, last byte, longest silence, and for a patience page the page and the file
   * fetched after it (bench/lib/slow-download.ts). `mode`: the download rule's `delivery.mode`
   * (the scenario's config sets it). A quick run caps the size like a transfer.
   */
  slowDownload?: SlowDownload;
}

export interface ProbeContext {
  /** Where the load goes: the proxy's address, or undefined for direct. */
  proxyPort: number | undefined;
  originHttpPort: number;
}

export interface Scenario {
  /** Stable id, also the JSON key: `passthrough-http-1k`. */
  name: string;
  /** One line for the table. */
  title: string;
  target: Target;
  load: Load;
  /** Rows this one is compared with (scenario names): the ceiling and the competitor. */
  baseline?: { direct?: string; squid?: string };
  /** Too long for a quick run (`--quick`): only the full suite runs it. */
  fullOnly?: boolean;
  /** A known defect of the target that makes this row fail: appended to the failure's reason. */
  knownDefect?: string;
  /**
   * Checked before anything is started: why this build cannot run the scenario at all (a config
   * key it needs is not in the schema yet), or undefined.
   */
  requires?(): string | undefined | Promise<string | undefined>;
  /**
   * Run after setup, before any load: returns why the scenario cannot be measured on this build
   * or machine (the row then reads "not available: <why>"), or undefined to go ahead.
   */
  probe?(ctx: ProbeContext): Promise<string | undefined>;
}

export type ScenarioStatus = 'ok' | 'not-available' | 'failed';

export interface LoadResult {
  requests: number;
  errors: number;
  non2xx: number;
  durationS: number;
  reqPerSec: number;
  bytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ScenarioResult {
  name: string;
  title: string;
  target: Target['kind'];
  status: ScenarioStatus;
  /** Why it is not available or why it failed. */
  reason?: string;
  baseline?: { direct?: string; squid?: string };
  load?: LoadResult & { connections: number; protocol: 'http' | 'https'; path: string; generator: 'autocannon' | 'node' };
  /** The proxy process (and what it spawned): peak resident set and CPU during the measured phase. */
  proxy?: ProcessUsage;
  /** The built-in ICAP service when it ran in a process of its own. */
  icapService?: ProcessUsage;
  /** Connections the origin accepted and requests it served during the measured phase. */
  origin?: { connections: number; requests: number };
  /** CPU of the origin and of the load generator during the measured phase (context on a small machine). */
  originCpuSeconds?: number;
  loadgenCpuSeconds?: number;
  /** CPU of the run's c-icap (all its processes) during the measured phase, when the target scanned through it */
  cicapCpuSeconds?: number;
  /** 1-minute load average after the scenario: how busy the machine was around it. */
  loadAverage?: number;
  /** Warm-up cycles run before the measured phase, and the target's CPU per request (µs) in each. */
  warmup?: { cycles: number; cpuUsPerRequest: number[] };
  /** ICAP transactions during the measured phase, and the verdict cache's answers (dlp-proxy). */
  icap?: IcapCount;
  /** A transfer scenario: its size and direction. */
  transfer?: { direction: 'upload' | 'download'; sizeBytes: number };
  /** Processes of the target when its measured phase began (the proxy and its descendants). */
  processes?: number;
  /** A cluster: the measured phase's exchanges per worker, from the access log (which workers the load reached). */
  exchangesPerWorker?: number[];
  /** A slow-origin download: its size, the origin's rate and the rule's delivery mode. */
  slowDownload?: SlowDownload;
  /** A slow-origin download that completed: what the client saw when. */
  delivery?: DeliveryTiming;
}

/** How a scanned download reaches the client while it is scanned (a policy rule's `delivery.mode`). */
export type DeliveryMode = 'hold' | 'trickle' | 'patience';

export interface SlowDownload {
  sizeBytes: number;
  rateBytesPerSec: number;
  mode: DeliveryMode;
}

/** One download through a scanning proxy from a throttled origin, timed at the client (ms from the request). */
export interface DeliveryTiming {
  /** Response head of the first answer (the file, or the patience page). */
  headersMs: number;
  /** First body byte of the file (for patience: of the file fetched after the page). */
  firstByteMs: number;
  /** Last byte of the file: the download is complete and has all its bytes. */
  lastByteMs: number;
  /** Longest time with no byte arriving, from the request to the last byte (what a client's read timeout meets). */
  longestSilenceMs: number;
  /** Patience only: the page (or JSON) complete, and the status polls made before the file was ready. */
  pageMs?: number;
  polls?: number;
}

export interface ProcessUsage {
  /** RSS when the measured phase began (the idle process, for a transfer). */
  rssStartBytes?: number;
  rssPeakBytes: number;
  cpuSeconds: number;
  /** the part of cpuSeconds spent in the kernel */
  systemSeconds?: number;
}

export interface IcapCount {
  /** REQMOD and RESPMOD transactions (OPTIONS not counted). */
  transactions: number;
  perRequest: number;
  /** Where the count comes from: the proxy's admin /metrics, or c-icap's access log (squid). */
  source: 'proxy metrics' | 'c-icap access log';
  cache?: { hits: number; misses: number; joins: number; hitRate: number };
}
