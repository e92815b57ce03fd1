// What each vendor does differently from the generic ICAP reading of DESIGN.md, as data: one row
// per vendor, read by classify.ts (how it says block, monitor, unscannable, failure) and by the
// probe and docs/vendors.md (what it needs from us). Every row cites where it comes from; the
// simulators in test/support/vendors/ answer as these sources say, and the conformance suite
// (test/integration/vendor-conformance.test.ts) holds the proxy to each row.
//
// The generic reading already covers, for every vendor: X-Infection-Found, X-Violations-Found,
// X-Virus-ID, X-Virus-Name, X-Blocked-Reason, X-Block-Reason and X-Response-Info: Blocked as
// blocks; X-MFE-PREVENT: SCANFAIL as unscannable; an HTTP response to a REQMOD (request
// satisfaction, RFC 3507 §4.8.4) and an HTTP status >= 400 as blocks; a 200 carrying the message
// unchanged as a pass. A row only says where its vendor departs from that.
import type { ServiceConfig } from '../config/schema.js';

export type VendorSetting = ServiceConfig['vendor'];
/** A vendor profile name: every configurable value but `auto`. */
export type Vendor = Exclude<VendorSetting, 'auto'>;

export interface VendorProfile {
  vendor: Vendor;
  /** the product, as operators know it */
  product: string;
  /** RESPMOD: any change to the response is a block (the vendor swaps the body for its notice). */
  respmodChangeIsBlock: boolean;
  /** No header names the violation: take the reason from the text of the vendor's page. */
  reasonFromPage: boolean;
  /**
   * The encapsulated head must carry Content-Length, or the body is not inspected: c-icap's
   * srv_content_filtering answers 204 for any body whose HTTP head has none (seen with 0.5.10 on
   * REQMOD and RESPMOD, with and without preview). Bodies of unknown length are then held whole
   * and sent with their length instead of streamed.
   */
  needsContentLength: boolean;
  /**
   * A 204 is the server's own decision to let the body pass: findings on it come from a rule that
   * only reports (a monitor rule), so they are logged as a monitored violation, not blocked. The
   * generic reading blocks a 204 that names a threat: nothing named passes on a guess.
   */
  unmodifiedMeansAllowed: boolean;
  /** The header where the vendor states the action it took, and the value meaning "let it pass". */
  actionHeader?: { name: string; allowed: RegExp };
  /** Headers of the encapsulated HTTP head of a block that name the threat (McAfee: X-Virus-Name). */
  httpHeadNames: string[];
  /** Encapsulated HTTP statuses meaning "could not scan" rather than "found something". */
  unscannableStatuses: number[];
  /**
   * X-Response-Desc of a block that names no finding and reports the server's own failure: an
   * ICAP_SERVER_ERROR (fail class serverError), not a violation.
   */
  serverFailureReason?: RegExp;
  /** ICAP methods the product offers (the probe and docs say which service to point where). */
  methods: Array<'REQMOD' | 'RESPMOD'>;
  /** Service keys to set for this vendor, printed by `dlp-proxy icap probe`. */
  recommend: Partial<Pick<ServiceConfig, 'sendClientIp' | 'sendServerIp' | 'sendUser'>>;
}

const GENERIC: Omit<VendorProfile, 'vendor' | 'product'> = {
  respmodChangeIsBlock: false,
  reasonFromPage: false,
  needsContentLength: false,
  unmodifiedMeansAllowed: false,
  httpHeadNames: [],
  unscannableStatuses: [],
  methods: ['REQMOD', 'RESPMOD'],
  recommend: {},
};

/**
 * Bumped whenever a row's reading changes: cached verdicts (a Redis cache outlives a restart) are
 * keyed by the profile and this revision, so a verdict read under an older rule is never reused.
 */
export const PROFILES_REVISION = 1;

export const VENDOR_PROFILES: Record<Vendor, VendorProfile> = {
  generic: { vendor: 'generic', product: 'any RFC 3507 server', ...GENERIC },
  // c-icap 0.5.10 (the real peer in test/interop/): see needsContentLength above.
  'c-icap': { vendor: 'c-icap', product: 'c-icap (srv_content_filtering, virus_scan)', ...GENERIC, needsContentLength: true },
  // Broadcom KB 184285 and 389913: a block is ICAP 200 with an HTTP 200 whose body is the response
  // rule's message, in REQMOD and RESPMOD alike; its only other modification is REQMOD redaction.
  // Trial mode answers as if nothing matched (204): nothing reaches the proxy to log.
  symantec: { vendor: 'symantec', product: 'Symantec/Broadcom DLP Network Prevent for Web', ...GENERIC, respmodChangeIsBlock: true, reasonFromPage: true },
  // help.forcepoint.com (DLP 10 deployment): in enforcement mode the protector answers block or
  // allow, with a block page; in monitoring mode it always allows.
  forcepoint: { vendor: 'forcepoint', product: 'Forcepoint DLP (protector ICAP server)', ...GENERIC, reasonFromPage: true },
  // opswat.com/docs/mdicap "ICAP response headers": X-Response-Info (Allowed|Blocked) is in every
  // answer and states the action taken; violation headers come whenever something was found, so
  // Allowed with findings is a workflow that lets them through. KB "Why does ICAP return a BLOCKED
  // while MetaDefender Core is still scanning": Core failures come back as Blocked.
  metadefender: {
    vendor: 'metadefender',
    product: 'OPSWAT MetaDefender ICAP Server',
    ...GENERIC,
    actionHeader: { name: 'x-response-info', allowed: /^\s*allowed\b/i },
    serverFailureReason: /\berror\b|\btime(d)?[ -]?out\b|\bfailed\b/i,
  },
  // McAfee Web Gateway / Trellix (toolarium/toolarium-icap-client#8, owncloud/files_antivirus
  // ICAPResponseAnalyser): a block is 200 + HTTP 403 with X-Virus-Name / X-Block-Reason /
  // X-WWBlockResult; release 11 puts X-Virus-Name in the encapsulated HTTP head. Trellix DLP
  // Network Prevent (docs.trellix.com "Web requirements") wants X-Server-IP besides the client.
  trellix: {
    vendor: 'trellix',
    product: 'Trellix (McAfee) Web Gateway / DLP Prevent',
    ...GENERIC,
    httpHeadNames: ['x-virus-name'],
    recommend: { sendServerIp: true },
  },
  // support.kaspersky.com Scan Engine (service rules 179893, templates 179895, response headers
  // 221159): an action is a rule (SET_RESP = an HTML template in place of the message, NONE = no
  // change); detections are named in headers only when enabled. A 204 is a NONE rule.
  kaspersky: { vendor: 'kaspersky', product: 'Kaspersky Scan Engine (kavicapd)', ...GENERIC, respmodChangeIsBlock: true, reasonFromPage: true, unmodifiedMeansAllowed: true },
  // No Sophos ICAP page in the corpora searched: the generic reading (draft-stecher headers, a 403
  // page), detected by name only.
  sophos: { vendor: 'sophos', product: 'Sophos (SAVDI ICAP)', ...GENERIC },
  // nextcloud/files_antivirus#303 (a capture from ESET Server Security for Linux) and #237:
  // RESPMOD only; a block is 200 + HTTP 403 with X-Infection-Found, X-Virus-ID and
  // X-Response-Info: Blocked.
  eset: { vendor: 'eset', product: 'ESET Server Security / Gateway Security (ICAP)', ...GENERIC, methods: ['RESPMOD'] },
  // docs.trendmicro.com "ICAP scanner responses" (Vision One File Security): a scan or system
  // error is 200 + HTTP 500, malware 200 + HTTP 403; IWSVA (KB 1121601) answers both methods.
  'trend-micro': { vendor: 'trend-micro', product: 'Trend Micro InterScan Web Security (IWSVA) / File Security', ...GENERIC, unscannableStatuses: [500] },
  // Clearswift Secure ICAP Gateway help "ICAP virus response headers": all three headers on every
  // virus or policy violation; an encrypted archive is a policy violation (a block).
  clearswift: { vendor: 'clearswift', product: 'Clearswift Secure ICAP Gateway', ...GENERIC },
};

/** The part of the verdict cache key that names how an answer was read. */
export function profileKeyPart(profile: VendorProfile): string {
  return `${profile.vendor}.${PROFILES_REVISION}`;
}
