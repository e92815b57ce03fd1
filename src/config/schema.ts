// The one schema: source of validation and of the `Config` type. Strict everywhere (an unknown key
// is an error naming its path); sizes and times carry their unit in the key name.
import net from 'node:net';
import os from 'node:os';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
/** Built-in ICAP service (issue 13): confidence levels and the rule knobs of every detector. */
const confidence = z.enum(['low', 'medium', 'high']);
const detectorRule = (minCount: number) =>
  z.strictObject({ enabled: z.boolean().default(true), minCount: z.number().int().min(1).default(minCount), minConfidence: confidence.default('medium') }).prefault({});
/** A custom match is medium, high with one of `supportingWords` within 300 characters. */
const customConfidence = { minConfidence: confidence.default('medium'), supportingWords: z.array(z.string().min(1).max(256)).default([]) };
const ms = z.number().int().min(0);
const bytes = z.number().int().min(0);
const host = z.string().min(1);

export function isCidr(value: string): boolean {
  const [addr, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = net.isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
const cidr = z.string().refine(isCidr, { message: 'must be an IP address or CIDR block (10.0.0.0/8, ::1/128)' });

const hostGlob = z
  .string()
  .min(1)
  .regex(/^[a-z0-9*.:_\-[\]]+$/i, 'must be a host name glob such as *.example.com');

const icapUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'icap:' || url.protocol === 'icaps:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'scheme must be icap or icaps (icap://host:1344/service)' },
);

const serviceServer = z.union([
  icapUrl,
  z.strictObject({ url: icapUrl, weight: z.number().int().min(1).max(100).default(1) }),
]);

const failMode = z.enum(['open', 'closed']);

/** File types the built-in ICAP service recognises by magic bytes. */
const fileType = z.enum(['pe', 'elf', 'mach-o', 'java-class', 'script', 'msi', 'zip', 'rar', '7z', 'gzip', 'pdf', 'wasm', 'dex']);

const service = z.strictObject({
  urls: z.array(serviceServer).min(1),
  /** Default for every error class; `failModes` overrides per class. */
  failMode: failMode.default('closed'),
  failModes: z
    .strictObject({
      connect: failMode.optional(),
      timeout: failMode.optional(),
      serverError: failMode.optional(),
      protocolError: failMode.optional(),
      overload: failMode.optional(),
      unscannable: failMode.optional(),
    })
    .prefault({}),
  /**
   * How the server signals block, monitor, unscannable and errors (src/enforce/vendor-profiles.ts,
   * docs/vendors.md). `auto` recognises the vendor from OPTIONS (Service, Server, ISTag) and falls
   * back to `generic`; the choice and its reason are logged once per service.
   */
  vendor: z
    .enum(['auto', 'generic', 'c-icap', 'symantec', 'forcepoint', 'metadefender', 'trellix', 'kaspersky', 'sophos', 'eset', 'trend-micro', 'clearswift'])
    .default('auto'),
  /** Show the ICAP server's own block page instead of ours. */
  relayBlockPage: z.boolean().default(false),
  tls: z
    .strictObject({
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      servername: z.string().optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  maxConnections: z.number().int().min(1).max(10_000).default(32),
  connectTimeoutMs: ms.default(5_000),
  previewTimeoutMs: ms.default(30_000),
  /**
   * A body already held whole in memory and no larger than this goes to the server in one write,
   * without the Preview its OPTIONS offers (RFC 3507 §4.5 leaves the choice to the client): every
   * byte is here, so a preview would only add the `100 Continue` round trip. Larger bodies, and
   * bodies that stream to the server as they arrive, are previewed as offered. 0 = always preview.
   */
  skipPreviewUpToBytes: bytes.max(1_048_576).default(65_536),
  readIdleTimeoutMs: ms.default(60_000),
  queueTimeoutMs: ms.default(10_000),
  idleTimeoutMs: ms.default(30_000),
  /**
   * When no connection to any server frees up within queueTimeoutMs (or a server answers 503):
   * wait = the service's fail mode for the overload class; bypass = pass the body unscanned;
   * block = answer the block page (violation "overload"). Squid's on-overload.
   */
  onOverload: z.enum(['wait', 'bypass', 'block']).default('wait'),
  /** Per-server health (Squid's icap_service_failure_limit and icap_service_revival_delay). */
  health: z
    .strictObject({
      /** OPTIONS probe of a server that carried no successful transaction this long; 0 = none */
      probeIntervalMs: ms.default(15_000),
      probeTimeoutMs: ms.min(1).default(5_000),
      /** connect/read/timeout failures, with no success between, that suspend a server; 0 = never */
      failureLimit: z.number().int().min(0).max(1000).default(5),
      failureWindowMs: ms.min(1).default(30_000),
      /** first probe of a suspended server; doubles after each failed probe up to the max */
      revivalDelayMs: ms.min(1).default(5_000),
      revivalDelayMaxMs: ms.min(1).default(60_000),
      /** each revival delay varies by ± this fraction, so servers and workers do not probe in step */
      revivalJitterRatio: z.number().min(0).max(1).default(0.2),
    })
    .prefault({}),
  /** Identity headers sent to the server (RFC 3507 §4.10 extension headers in common use). */
  sendClientIp: z.boolean().default(true),
  sendServerIp: z.boolean().default(false),
  sendUser: z.boolean().default(true),
});

const webhook = z.strictObject({
  /** Metric label and log name: a fixed set from config, never the URL (it may carry a token). */
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/i, 'letters, digits, - and _'),
  url: z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an http:// or https:// URL' },
  ),
  /** Extra request headers (an Authorization token, say). */
  headers: z.record(z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a header name'), z.string()).default({}),
  /** One attempt, connect to answer; a webhook slower than this counts as failed and is retried. */
  timeoutMs: ms.min(1).default(5_000),
  /** Alerts waiting for this webhook; past it new alerts are dropped and counted. */
  queueSize: z.number().int().min(1).max(1_000_000).default(1_000),
  /** Further attempts after a failure, with exponential backoff from retryBackoffMs. */
  retries: z.number().int().min(0).max(20).default(3),
  retryBackoffMs: ms.default(1_000),
  /** PEM files trusted for an https webhook besides the system roots. */
  caFile: z.string().min(1).optional(),
});

/** E-mail alerts (issue 15): an address is one token, so no header can be smuggled through it. */
const mailbox = z.string().regex(/^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+$/, 'must be an e-mail address such as soc@example.com');
const emailRoute = z.strictObject({
  /** Metric label and log name. */
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/i, 'letters, digits, - and _'),
  /** Every list given must match; none = every incident. Globs: `*` is any run of characters. */
  match: z
    .strictObject({
      rules: z.array(z.string().min(1)).min(1).optional(),
      /** One of the incident's violation names (payment-card, keyword:*, Win.Test.EICAR_HDB-1) matching is enough. */
      violations: z.array(z.string().min(1)).min(1).optional(),
      actions: z.array(z.enum(['block', 'monitor'])).min(1).optional(),
    })
    .prefault({}),
  to: z.array(mailbox).min(1),
  /** immediate: one mail per incident; digest: one mail every digestMinutes listing the period's incidents (none when empty). */
  mode: z.enum(['immediate', 'digest']).default('immediate'),
  digestMinutes: z.number().int().min(1).max(1440).default(15),
});
const emailAlerts = z.strictObject({
  smtp: z
    .strictObject({
      host,
      /** Default 587 (starttls), 465 (implicit), 25 (none). */
      port: port.min(1).optional(),
      /** starttls: required, never plain (RFC 3207); implicit: TLS from the first byte (RFC 8314); none: a relay on this host only. */
      tls: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
      /** The name the server certificate must carry, when host is an address or another name. */
      servername: z.string().min(1).optional(),
      user: z.string().min(1).optional(),
      pass: z.string().optional(),
      /** A file whose first line is the password (keeps it out of the config file). */
      passFile: z.string().min(1).optional(),
      /** PEM file trusted for the SMTP server besides the system roots. */
      caFile: z.string().min(1).optional(),
    })
    .refine((s) => s.pass === undefined || s.passFile === undefined, { message: 'give pass or passFile, not both' })
    .refine((s) => s.user !== undefined || (s.pass === undefined && s.passFile === undefined), { message: 'a password needs user' })
    .refine((s) => s.tls !== 'none' || isLoopback(s.host), { message: 'tls: none only for a relay on loopback: incident mail never crosses a network in clear' }),
  /** The sender: an address, or a display name (none of , ; : " \ < >: they would make it a list) and <address>. */
  from: z.union([mailbox, z.string().regex(/^[^\r\n<>",;:\\]*<[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+>$/, 'must be an address or Name <address>')]),
  rules: z.array(emailRoute).min(1),
  /** Incidents held for mail (open digests and queued mails); past it an incident is dropped and counted. */
  queueSize: z.number().int().min(1).max(1_000_000).default(1_000),
  /** Further attempts after a 4xx, a timeout or a connection failure (a 5xx is final), backoff doubling from retryBackoffMs. */
  retries: z.number().int().min(0).max(20).default(5),
  retryBackoffMs: ms.default(5_000),
  /** One SMTP session, connect to the server's answer to the message; also what close() waits for the queue. */
  timeoutMs: ms.min(1).default(15_000),
});

const direction = z.enum(['upload', 'download']);

const ruleMatch = z.strictObject({
  direction: direction.optional(),
  methods: z.array(z.string().min(1)).optional(),
  /** http (ordinary exchanges) or websocket (an upgrade: the decision applies to its messages) */
  protocols: z.array(z.enum(['http', 'websocket'])).min(1).optional(),
  hosts: z.array(hostGlob).optional(),
  paths: z
    .array(
      z.string().refine(
        (v) => {
          try {
            new RegExp(v);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'must be a valid regular expression' },
      ),
    )
    .optional(),
  requestContentTypes: z.array(z.string().min(1)).optional(),
  responseContentTypes: z.array(z.string().min(1)).optional(),
  minBytes: bytes.optional(),
  maxBytes: bytes.optional(),
  clients: z.array(cidr).optional(),
  users: z.array(z.string().min(1)).optional(),
});

/**
 * How a scanned download reaches the client while it is scanned (src/pipeline/delivery.ts):
 * `hold` (all at once after the verdict), `trickle` (the head and slow bytes, always keeping back
 * the last trickleHoldBytes; a block cuts the connection) or `patience` (a browser gets a progress
 * page that fetches the file once scanned; JSON clients a 202; others patienceFallback).
 */
const delivery = z.strictObject({
  mode: z.enum(['hold', 'trickle', 'patience']).default('hold'),
  /** never sent before the verdict: a blocked file stays at least this short (min 1) */
  trickleHoldBytes: bytes.min(1).default(1024 * 1024),
  /** trickle release rate while the scan runs */
  trickleBytesPerSecond: bytes.min(1).default(64 * 1024),
  /** trickle and patience only for bodies of at least this size (received, or declared for patience); smaller ones are held */
  trickleMinBytes: bytes.default(1024 * 1024),
  /** patience for clients that are neither a browser navigation nor ask for JSON (curl, apt) */
  patienceFallback: z.enum(['hold', 'trickle']).default('hold'),
});

const rule = z
  .strictObject({
    name: z.string().min(1),
    match: ruleMatch.prefault({}),
    scan: z.string().min(1).optional(),
    action: z.enum(['pass', 'block', 'tunnel']).optional(),
    onViolation: z.enum(['block', 'monitor']).default('block'),
    /** Send bodiless requests to REQMOD too (off: only requests with a body are scanned). */
    scanEmptyBodies: z.boolean().default(false),
    delivery: delivery.prefault({}),
  })
  .refine((r) => (r.scan === undefined) !== (r.action === undefined), {
    message: 'a rule has exactly one of `scan: <service>` or `action: pass|block|tunnel`',
  });

const user = z.strictObject({
  name: z.string().min(1),
  /** scrypt hash as written by `dlp-proxy hash-password`: scrypt$N$r$p$salt$hash (base64). */
  passwordHash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be an scrypt hash from `dlp-proxy hash-password`'),
});

export const configSchema = z
  .strictObject({
    /** Proxy worker processes (node:cluster); 1 = a single process. Default: one per core. */
    workers: z.number().int().min(1).max(256).default(() => os.availableParallelism()),
    shutdown: z
      .strictObject({
        /** SIGTERM and reload: in-flight exchanges get this long to finish before their connections are cut. */
        drainTimeoutMs: ms.default(30_000),
      })
      .prefault({}),
    proxy: z
      .strictObject({
        host: host.default('127.0.0.1'),
        port: port.default(8080),
        /** Required when `host` is not a loopback address: the proxy is never open to the world. */
        allowedClients: z.array(cidr).default([]),
        auth: z
          .strictObject({
            realm: z.string().min(1).default('dlp-proxy'),
            users: z.array(user).min(1),
          })
          .optional(),
        /** CONNECT targets tunnelled untouched (pinned apps, banks); everything else is intercepted. */
        tunnel: z.array(hostGlob).default([]),
        /** Hosts the PAC file sends DIRECT. */
        bypass: z.array(hostGlob).default([]),
        /** Name used in the Via header. */
        viaName: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/).default('dlp-proxy'),
        clientHeadersTimeoutMs: ms.default(30_000),
        clientIdleTimeoutMs: ms.default(120_000),
        maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
        /** Header fields in one request head; more are answered 431 (never forwarded with the rest dropped). */
        maxHeaderCount: z.number().int().min(8).max(10_000).default(100),
        /** An intercepted CONNECT that sends nothing after our 200 is closed after this long. */
        connectFirstByteTimeoutMs: z.number().int().min(1).default(30_000),
        /** The TLS handshake with the client of an intercepted CONNECT, from its first byte. */
        tlsHandshakeTimeoutMs: z.number().int().min(1).default(10_000),
        /** Tunnels and intercepted connections that move no byte either way for this long are closed. */
        tunnelIdleTimeoutMs: z.number().int().min(1).default(300_000),
        /** Connections at once per client address (plain and CONNECT); over it 429, from twice it a close. */
        maxConnectionsPerClient: z.number().int().min(1).default(256),
      })
      .prefault({}),
    upstream: z
      .strictObject({
        /** PEM files trusted besides the system roots (and NODE_EXTRA_CA_CERTS). */
        extraCaFiles: z.array(z.string().min(1)).default([]),
        rejectUnauthorized: z.boolean().default(true),
        connectTimeoutMs: ms.default(10_000),
        headersTimeoutMs: ms.default(60_000),
        idleTimeoutMs: ms.default(120_000),
        keepAliveMs: ms.default(15_000),
        maxSocketsPerHost: z.number().int().min(1).default(256),
        /**
         * `CIDR[:ports]` destinations refused (`10.0.0.0/8`, `192.168.0.0/16:8000-8999`, `[fd00::/8]:443`);
         * entries are parsed, with their path in errors, by upstream/destination-rule.ts at start.
         */
        denyDestinations: z.array(z.string().min(1)).default([]),
        /** `CIDR[:ports]` destinations allowed despite the defaults (link-local; loopback when proxy.host is off loopback); never this proxy's own listeners, never a denied one. */
        allowDestinations: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
    ca: z
      .strictObject({
        dir: z.string().min(1).default('ca'),
        leafValidityDays: z.number().int().min(1).max(397).default(397),
        certCacheSize: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    icapServer: z
      .strictObject({
        enabled: z.boolean().default(true),
        host: host.default('127.0.0.1'),
        port: port.default(1344),
        /** Announced in OPTIONS (Max-Connections) and enforced: further connections are refused. */
        maxConnections: z.number().int().min(1).max(10_000).default(256),
        /** Preview size announced in OPTIONS (RFC 3507 §4.5). */
        previewBytes: bytes.max(1_048_576).default(1024),
        /** Options-TTL announced in OPTIONS, in seconds on the wire. */
        optionsTtlMs: ms.default(3_600_000),
        maxHeadBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
        /** Bytes of each body that are scanned; the rest is read and not scanned. */
        maxScanBytes: bytes.default(256 * 1024 * 1024),
        /** Decoded bytes per body, all decoders and extractors together; past it: a `decode-limit:bytes` finding. */
        maxDecodedBytes: bytes.default(1024 * 1024 * 1024),
        /** Nesting of encodings, parts and containers (zip in mail in gzip…) opened; deeper: `decode-limit:depth`. */
        maxDecodeDepth: z.number().int().min(1).max(32).default(10),
        /** Content extraction (issue 13): limits against bombs and what an encrypted file means. */
        extract: z
          .strictObject({
            /** Decoded/compressed bytes of one decompression stream (past 1 MiB of output); past it: `decode-limit:ratio`. */
            maxRatio: z.number().int().min(2).default(250),
            /** Files taken out of containers (archive entries, mail parts, attachments) per body; past it: `decode-limit:entries`. */
            maxEntries: z.number().int().min(1).default(10_000),
            /** An encrypted archive or document (`encrypted-content`): block, or pass what cannot be read. */
            encryptedContent: z
              .strictObject({ upload: z.enum(['block', 'pass']).default('block'), download: z.enum(['block', 'pass']).default('pass') })
              .prefault({}),
          })
          .prefault({}),
        /** AV back-end of the `av` service (issue 13): clamd over its UNIX socket or TCP, INSTREAM. */
        av: z
          .strictObject({
            clamd: z
              .strictObject({
                /** clamd.conf LocalSocket */
                socket: z.string().min(1).optional(),
                /** clamd.conf TCPAddr and TCPSocket */
                host: host.default('127.0.0.1'),
                port: port.min(1).optional(),
                timeoutMs: ms.min(1).default(30_000),
                /** Bytes of each file streamed; keep it at or under clamd's StreamMaxLength (25M by default). */
                maxStreamBytes: bytes.min(1).default(25 * 1024 * 1024),
                /** How often clamd is asked its signature version (VERSION): the av service's ISTag follows it. */
                versionPollMs: ms.min(100).default(60_000),
              })
              .refine((c) => (c.socket === undefined) !== (c.port === undefined), { message: 'clamd needs socket (a UNIX socket path) or port (TCP, with host)' })
              .optional(),
          })
          .prefault({}),
        /** A client that does not offer `Allow: 204` gets a clean message echoed back; bodies larger get 500. */
        maxEchoBytes: bytes.default(16 * 1024 * 1024),
        idleTimeoutMs: ms.default(60_000),
        detectors: z
          .strictObject({
            /** Each built-in detector blocks at `minCount` findings of at least `minConfidence` (low | medium | high). */
            paymentCards: detectorRule(1),
            iban: detectorRule(1),
            usSsn: detectorRule(1),
            /** UK National Insurance numbers. */
            ukNino: detectorRule(1),
            /** EU VAT ids: without a VAT keyword nearby a match is low confidence. */
            euVat: detectorRule(1),
            /** E-mail address bulk: `minCount` distinct addresses in one body. */
            emailAddresses: z
              .strictObject({
                ...detectorRule(50).unwrap().shape,
                /** Also inside software packages, whose author lists (package.json contributors, AUTHORS, NOTICE, a manifest's developers) hold dozens to hundreds of addresses. */
                insidePackages: z.boolean().default(false),
              })
              .prefault({}),
            privateKeys: detectorRule(1),
            /** AWS access key ids and secret keys, GitHub, Slack, Google, Stripe, GitLab, npm, SendGrid, OpenAI, Azure storage. */
            credentials: detectorRule(1),
            keywords: z
              .array(
                z.strictObject({
                  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ and -'),
                  words: z.array(z.string().min(1).max(256)).min(1),
                  caseSensitive: z.boolean().default(false),
                  minCount: z.number().int().min(1).default(1),
                  ...customConfidence,
                }),
              )
              .default([]),
            regexes: z
              .array(
                z.strictObject({
                  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ and -'),
                  pattern: z.string().min(1).refine(
                    (v) => {
                      try {
                        new RegExp(v, 'u');
                        return true;
                      } catch {
                        return false;
                      }
                    },
                    { message: 'must be a valid regular expression' },
                  ),
                  caseSensitive: z.boolean().default(true),
                  minCount: z.number().int().min(1).default(1),
                  ...customConfidence,
                }),
              )
              .default([]),
            /** The EICAR anti-virus test file (service `av`). */
            eicar: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
            /** File types recognised by magic bytes, blocked per direction (RESPMOD = download), in every file taken out of a container. */
            blockedFileTypes: z
              .strictObject({
                download: z.array(fileType).default(['pe', 'elf', 'mach-o']),
                upload: z.array(fileType).default([]),
                /** Also inside software packages (npm tarballs, jars, wheels, sdists, NuGet, gems, crates), which ship native code by design. */
                insidePackages: z.boolean().default(false),
              })
              .prefault({}),
          })
          .prefault({}),
        /** Exact data match: CSV files of sensitive records (header row first), kept as keyed hashes only. Reloaded on SIGHUP. */
        edm: z
          .array(
            z.strictObject({
              name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ and -'),
              file: z.string().min(1),
              /** A body holding this many fields of one record (one of them a value no other record has) is a violation `edm:<name>`. */
              minFields: z.number().int().min(1).max(64).default(2),
              /** ...within this many characters of each other. */
              proximityChars: z.number().int().min(10).max(100_000).default(300),
            }),
          )
          .default([])
          .refine((sets) => new Set(sets.map((s) => s.name)).size === sets.length, { message: 'a data set name is listed twice' }),
        /** Confidential documents (any format the service reads); a body sharing minPercent of one's fingerprints is `fingerprint:<name>`. Reloaded on SIGHUP. */
        fingerprints: z
          .array(
            z.strictObject({
              name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ and -'),
              file: z.string().min(1),
              minPercent: z.number().min(1).max(100).default(30),
            }),
          )
          .default([])
          .refine((docs) => new Set(docs.map((d) => d.name)).size === docs.length, { message: 'a document name is listed twice' }),
      })
      .prefault({}),
    services: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/i, 'service names are letters, digits, - and _'), service).prefault({
      dlp: { urls: ['icap://127.0.0.1:1344/dlp'] } as never,
      av: { urls: ['icap://127.0.0.1:1344/av'] } as never,
    }),
    policy: z.array(rule).prefault([
      { name: 'websocket-from-server', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' } as never,
      { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' } as never,
      { name: 'downloads', match: { direction: 'download' }, scan: 'av' } as never,
    ]),
    scan: z
      .strictObject({
        /** Bodies up to this size are hashed before scanning, so the cache answers first. */
        cacheFirstMaxBytes: bytes.default(8 * 1024 * 1024),
        maxScanBytes: bytes.default(256 * 1024 * 1024),
        /** past maxScanBytes (or maxWebSocketMessageBytes): block, or pass unscanned (logged and counted as unscanned) */
        oversizeAction: z.enum(['block', 'pass']).default('block'),
        /** a WebSocket message is scanned whole: the limit in force is the smaller of this and maxScanBytes */
        maxWebSocketMessageBytes: bytes.min(1).default(16 * 1024 * 1024),
        spoolMemoryBytes: bytes.default(1024 * 1024),
        spoolDir: z.string().optional(),
        /** Files scanned under `delivery: { mode: patience }` wait here for their fetch. */
        patience: z
          .strictObject({
            /** all bodies held for a patience fetch together (scanning or scanned); past it, the rule's patienceFallback */
            maxHeldBytes: bytes.default(512 * 1024 * 1024),
            /** a scanned file not fetched within this is deleted; its link then answers 404 */
            ttlMs: ms.min(1).default(600_000),
          })
          .prefault({}),
      })
      .prefault({}),
    cache: z
      .strictObject({
        store: z.enum(['memory', 'redis']).default('memory'),
        maxBytes: bytes.default(64 * 1024 * 1024),
        ttlMs: ms.default(3_600_000),
        redisUrl: z.string().optional(),
        keyPrefix: z.string().default('dlp-proxy:verdict:'),
        /** With store: redis, a local LRU of `maxBytes` answers first; Redis down = local only. */
        redis: z
          .strictObject({
            connectTimeoutMs: ms.min(1).default(1_000),
            /** Each GET/SET; past it the command fails and the exchange scans (or keeps its verdict locally). */
            commandTimeoutMs: ms.min(1).default(250),
            /** Reconnect backoff ceiling while Redis is down. */
            maxReconnectDelayMs: ms.min(1).default(2_000),
          })
          .prefault({}),
        /** store: memory with workers > 1: the primary holds the one store of the host, the workers ask it over IPC. */
        shared: z
          .strictObject({
            /** each worker's LRU in front of the primary's store (repeated bodies need no IPC); 0 = none */
            localMaxBytes: bytes.default(4 * 1024 * 1024),
            /** how long the primary may take to answer a lookup; past it the exchange scans */
            ipcTimeoutMs: ms.min(1).default(1_000),
            /** how long a worker waits for another worker's scan of the same body before it scans itself */
            claimTimeoutMs: ms.min(1).default(30_000),
          })
          .prefault({}),
      })
      .prefault({})
      .refine((c) => c.store !== 'redis' || c.redisUrl !== undefined, {
        message: 'store: redis needs redisUrl (redis://host:port)',
      }),
    admin: z
      .strictObject({
        enabled: z.boolean().default(true),
        host: host.default('127.0.0.1'),
        port: port.default(9090),
        /** host:port the PAC file names; default: proxy.host (or, when it is a wildcard, the host the client asked the admin listener by) and the proxy port. */
        pacProxy: z
          .string()
          .regex(/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\]):[0-9]{1,5}$/i, 'must be host:port, e.g. proxy.corp.example:8080')
          .optional(),
        /** /readyz waits this long for an ICAP service's OPTIONS before calling it not ready. */
        readyTimeoutMs: ms.default(2_000),
        /** Who may read the incident pages and API (hashes from `dlp-proxy hash-password`); none = those pages stay closed. */
        users: z
          .array(
            z.strictObject({
              /** RFC 7617 §2: a Basic user-id has no colon */
              name: z.string().regex(/^[^:\u0000-\u001f\u007f]{1,64}$/, '1 to 64 characters, no colon or control character'),
              passwordHash: user.shape.passwordHash,
            }),
          )
          .default([])
          .refine((users) => new Set(users.map((u) => u.name)).size === users.length, { message: 'a user name is listed twice' }),
        /** A sign-in session ends this long after the login (or at logout, or when its user's hash changes). */
        sessionTtlMs: ms.min(60_000).default(28_800_000),
        /** HTTPS for the admin listener: PEM files of its certificate (chain) and key. Required off loopback once admin.users is set. */
        tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
        /** The admin listener as people reach it (https://dlp-admin.example.com:9090): the block page links its incident number to <publicUrl>/incidents/<id>, and sign-in forms posted from this origin are accepted. */
        publicUrl: z
          .string()
          .regex(/^https?:\/\/[^/?#\s]+\/?$/i, 'must be an http(s) origin such as https://dlp-admin.example.com:9090')
          .optional(),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        /** Each block and monitored violation is POSTed as JSON (the violation log line's fields, never content). */
        webhooks: z.array(webhook).default([]),
        /** Mail to the routes in rules, per incident or as a digest, from the process that owns the alerts (the primary in cluster mode). */
        email: emailAlerts.optional(),
      })
      .prefault({}),
    incidents: z
      .strictObject({
        /** Record every block and monitored violation (the violation log line's fields) in a SQLite file. */
        enabled: z.boolean().default(true),
        /** Directory of incidents.sqlite (created 0700; the file 0600: records name people). */
        dir: z.string().min(1).default('incidents'),
        /** Records older than this are deleted (checked every minute). */
        retentionDays: z.number().int().min(1).max(3650).default(90),
        /** Size cap of the file and its WAL; past it the oldest records are deleted first. */
        maxBytes: bytes.min(1024 * 1024).default(1024 * 1024 * 1024),
        /** Records waiting to be written; past it new ones are dropped and counted. */
        queueSize: z.number().int().min(1).max(1_000_000).default(10_000),
        /** What waited is written every batchMs, in one transaction. */
        batchMs: ms.min(1).max(60_000).default(200),
      })
      .prefault({}),
    blockPage: z
      .strictObject({
        /** HTML template; {{name}} placeholders are escaped. */
        template: z.string().default('config/block-page.html'),
        contact: z.string().default('your IT helpdesk'),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** auto: readable when stdout is a TTY, JSON otherwise. */
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const [i, r] of config.policy.entries()) {
      if (r.scan !== undefined && !(r.scan in config.services)) {
        ctx.addIssue({ code: 'custom', path: ['policy', i, 'scan'], message: `unknown service "${r.scan}" (services: ${Object.keys(config.services).join(', ') || 'none'})` });
      }
    }
    if (!isLoopback(config.proxy.host) && config.proxy.allowedClients.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['proxy', 'allowedClients'],
        message: `proxy.host ${config.proxy.host} is not a loopback address: list the client networks allowed to use the proxy (an open proxy is refused)`,
      });
    }
    if (config.admin.enabled && config.admin.port !== 0 && config.admin.port === config.proxy.port) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'port'], message: `the admin listener never shares the proxy port ${config.proxy.port}` });
    }
    const webhookNames = config.alerts.webhooks.map((w) => w.name);
    for (const [i, name] of webhookNames.entries()) {
      if (webhookNames.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['alerts', 'webhooks', i, 'name'], message: `webhook name "${name}" is used twice` });
    }
    const routeNames = config.alerts.email?.rules.map((r) => r.name) ?? [];
    for (const [i, name] of routeNames.entries()) {
      if (routeNames.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['alerts', 'email', 'rules', i, 'name'], message: `e-mail rule name "${name}" is used twice` });
    }
    if (!isLoopback(config.admin.host) && config.proxy.allowedClients.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'host'], message: 'the admin listener off loopback needs proxy.allowedClients' });
    }
    if (config.admin.users.length > 0 && !isLoopback(config.admin.host) && config.admin.tls === undefined) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'tls'], message: 'admin.users off loopback needs admin.tls: passwords and session cookies never cross a network in clear' });
    }
  });

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ServiceConfig = z.output<typeof service>;
export type PolicyRule = z.output<typeof rule>;
export type RuleMatch = z.output<typeof ruleMatch>;
export type RuleDelivery = z.output<typeof delivery>;
