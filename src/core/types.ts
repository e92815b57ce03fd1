// The small shared vocabulary of DESIGN.md: decisions (policy), ICAP results (icap), verdicts
// (enforce), used by policy/, icap/, enforce/, verdict/ and pipeline/.
import type { Readable } from 'node:stream';

/** upload = the request body leaves the organisation; download = the response body comes in. */
export type Direction = 'upload' | 'download';

/** Header list that keeps order, case and repeats, as received. */
export type HeaderList = Array<[name: string, value: string]>;

/** A parsed HTTP message head (request or response), as carried inside ICAP. */
export interface HttpHead {
  kind: 'request' | 'response';
  /** request line parts */
  method?: string;
  target?: string;
  /** response line parts */
  status?: number;
  reason?: string;
  version: string;
  headers: HeaderList;
}

/** ICAP response headers: names lower-cased, obs-fold continuations joined with one space. */
export type IcapHeaders = Map<string, string>;

export interface Decision {
  action: 'pass' | 'block' | 'tunnel' | 'scan';
  /** name of the rule that decided ('default' when none matched) */
  rule: string;
  /** one line saying why this rule matched */
  explain: string;
  /** the ICAP service name when action is 'scan' */
  service?: string;
  /** when action is 'scan': block on a violation, or only log it */
  onViolation?: 'block' | 'monitor';
}

export type IcapResult =
  | { kind: 'unmodified'; istag: string; headers: IcapHeaders }
  /** `echo`: the body was byte for byte the body sent, held whole (`body` is then null) */
  | { kind: 'modified'; istag: string; headers: IcapHeaders; head: HttpHead; body: Readable | null; echo?: boolean };

/**
 * Where a verdict came from. `unscanned`: the body passed without a completed scan (Transfer-Ignore,
 * a 204 within the preview, an oversize body under `oversizeAction: pass`); like `fail-open`, such
 * a pass is logged and counted, and never cached or reused.
 */
export type VerdictSource = 'cache' | 'icap' | 'fail-open' | 'fail-closed' | 'policy' | 'unscanned';

export interface Verdict {
  action: 'pass' | 'replace' | 'block';
  reason?: string;
  violations: string[];
  source: VerdictSource;
}
