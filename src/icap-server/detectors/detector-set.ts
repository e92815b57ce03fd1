// Builds the detectors each service runs from config, and the ISTag that names that configuration:
// RFC 3507 §4.7 says the tag must change whenever the service would answer differently, so it
// is a hash of the detector settings and of the code's rule version.
//
// The seam with content extraction (decode/, extract/): a DetectorSet is `text` detectors, fed
// the decoded text of each file through one TextScanner per file (new TextScanner(set.text,
// findings)), and `head` probes, fed each file's bytes. Issue 13 changed TextDetector into a
// union: `pattern` detectors (a regex and a check that returns a confidence) and `stream`
// detectors (EDM, fingerprints) that TextScanner feeds every character; callers of TextScanner
// need no change. Findings gained addDistinct() (e-mail bulk); add() is unchanged.
import { createHash } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { awsAccessKeyIdDetector, awsSecretKeyDetector, githubTokenDetector, privateKeyDetector, slackTokenDetector } from './credentials.js';
import { keywordDetector, regexDetector } from './custom-rules.js';
import { eicarProbe } from './eicar.js';
import { emailAddressDetector } from './email-address.js';
import { euVatDetector } from './eu-vat.js';
import { fileTypeFinding, fileTypeProbe } from './file-type.js';
import type { HeadProbeFactory } from './head-probe.js';
import { ibanDetector } from './iban.js';
import { paymentCardDetector } from './payment-card.js';
import { saasTokenDetectors } from './saas-tokens.js';
import type { StreamDetector, TextDetector } from './text-detector.js';
import { ukNinoDetector } from './uk-nino.js';
import { usSsnDetector } from './us-ssn.js';

export type IcapServerConfig = Config['icapServer'];
export type DetectorConfig = IcapServerConfig['detectors'];
export type ServiceName = 'dlp' | 'av';
export type ScanMethod = 'REQMOD' | 'RESPMOD';

/** Bumped whenever a built-in detector changes what it matches. */
const RULES_VERSION = '3';

export interface DetectorSet {
  text: TextDetector[];
  head: HeadProbeFactory[];
  /** findings that do not count inside software packages (decode/container-scope.ts): e-mail bulk, file types, unless their rule's insidePackages */
  notInPackages: ReadonlySet<string>;
}

/** EDM and fingerprint detectors loaded from their files (data-sets.ts), and the digest of those files. */
export interface LoadedDataSets {
  detectors: StreamDetector[];
  digest: string;
}

const NONE: LoadedDataSets = { detectors: [], digest: '' };

export function buildDetectorSet(config: DetectorConfig, service: ServiceName, method: ScanMethod, dataSets: LoadedDataSets = NONE): DetectorSet {
  const text: TextDetector[] = [];
  const head: HeadProbeFactory[] = [];
  const notInPackages = new Set<string>();
  if (service === 'dlp') {
    if (config.paymentCards.enabled) text.push(paymentCardDetector(config.paymentCards));
    if (config.iban.enabled) text.push(ibanDetector(config.iban));
    if (config.usSsn.enabled) text.push(usSsnDetector(config.usSsn));
    if (config.ukNino.enabled) text.push(ukNinoDetector(config.ukNino));
    if (config.euVat.enabled) text.push(euVatDetector(config.euVat));
    if (config.emailAddresses.enabled) {
      const emails = emailAddressDetector(config.emailAddresses);
      text.push(emails);
      if (!config.emailAddresses.insidePackages) notInPackages.add(emails.name);
    }
    if (config.privateKeys.enabled) text.push(privateKeyDetector(config.privateKeys));
    const creds = config.credentials;
    if (creds.enabled) text.push(awsAccessKeyIdDetector(creds), awsSecretKeyDetector(creds), githubTokenDetector(creds), slackTokenDetector(creds), ...saasTokenDetectors(creds));
    for (const rule of config.keywords) text.push(keywordDetector(rule));
    for (const rule of config.regexes) text.push(regexDetector(rule));
    text.push(...dataSets.detectors);
  } else if (config.eicar.enabled) {
    head.push(eicarProbe);
  }
  const blocked = new Set(method === 'RESPMOD' ? config.blockedFileTypes.download : config.blockedFileTypes.upload);
  if (blocked.size > 0) head.push(fileTypeProbe(blocked));
  if (!config.blockedFileTypes.insidePackages) for (const type of blocked) notInPackages.add(fileTypeFinding(type));
  return { text, head, notInPackages };
}

/**
 * A quoted ISTag of at most 32 characters (RFC 3507 §4.7), derived from everything that changes
 * verdicts: the rules, the limits, and the content of the EDM and fingerprint files.
 */
export function istagFor(config: IcapServerConfig, service: ServiceName, dataSets: LoadedDataSets = NONE): string {
  const material = JSON.stringify([RULES_VERSION, service, config.detectors, config.maxScanBytes, config.maxDecodedBytes, config.maxDecodeDepth, service === 'dlp' ? dataSets.digest : '']);
  return `"dp-${createHash('sha256').update(material).digest('hex').slice(0, 24)}"`;
}
