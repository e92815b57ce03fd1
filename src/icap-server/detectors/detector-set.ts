// Builds the detectors each service runs from config, and the ISTag that names that configuration:
// RFC 3507 §4.7 says the tag must change whenever the service would answer differently, so it
// is a hash of the detector settings and of the code's rule version.
import { createHash } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { awsAccessKeyIdDetector, awsSecretKeyDetector, githubTokenDetector, privateKeyDetector, slackTokenDetector } from './credentials.js';
import { keywordDetector, regexDetector } from './custom-rules.js';
import { eicarProbe } from './eicar.js';
import { fileTypeProbe } from './file-type.js';
import type { HeadProbeFactory } from './head-probe.js';
import { ibanDetector } from './iban.js';
import { paymentCardDetector } from './payment-card.js';
import type { TextDetector } from './text-detector.js';
import { usSsnDetector } from './us-ssn.js';

export type IcapServerConfig = Config['icapServer'];
export type DetectorConfig = IcapServerConfig['detectors'];
export type ServiceName = 'dlp' | 'av';
export type ScanMethod = 'REQMOD' | 'RESPMOD';

/** Bumped whenever a built-in detector changes what it matches. */
const RULES_VERSION = '1';

export interface DetectorSet {
  text: TextDetector[];
  head: HeadProbeFactory[];
}

export function buildDetectorSet(config: DetectorConfig, service: ServiceName, method: ScanMethod): DetectorSet {
  const text: TextDetector[] = [];
  const head: HeadProbeFactory[] = [];
  if (service === 'dlp') {
    if (config.paymentCards.enabled) text.push(paymentCardDetector(config.paymentCards.minCount));
    if (config.iban.enabled) text.push(ibanDetector(config.iban.minCount));
    if (config.usSsn.enabled) text.push(usSsnDetector(config.usSsn.minCount));
    if (config.privateKeys.enabled) text.push(privateKeyDetector());
    if (config.credentials.enabled) {
      text.push(awsAccessKeyIdDetector(), awsSecretKeyDetector(), githubTokenDetector(), slackTokenDetector());
    }
    for (const rule of config.keywords) text.push(keywordDetector(rule));
    for (const rule of config.regexes) text.push(regexDetector(rule));
  } else if (config.eicar.enabled) {
    head.push(eicarProbe);
  }
  const blocked = new Set(method === 'RESPMOD' ? config.blockedFileTypes.download : config.blockedFileTypes.upload);
  if (blocked.size > 0) head.push(fileTypeProbe(blocked));
  return { text, head };
}

/** A quoted ISTag of at most 32 characters (RFC 3507 §4.7), derived from everything that changes verdicts. */
export function istagFor(config: IcapServerConfig, service: ServiceName): string {
  const material = JSON.stringify([RULES_VERSION, service, config.detectors, config.maxScanBytes, config.maxDecodedBytes, config.maxDecodeDepth]);
  return `"dp-${createHash('sha256').update(material).digest('hex').slice(0, 24)}"`;
}
