// E-mail address bulk: one address is a signature, a customer list is a leak. Each distinct
// address (lower-cased) counts once per body, and the rule's minimum count is the bulk threshold.
// Addresses at reserved example and test domains (RFC 2606, RFC 6761) and no-reply senders are
// low confidence: documentation and notifications are full of them.
import { followsWord, type DetectorRule, type PatternDetector } from './text-detector.js';

/** RFC 5321 §4.1.2 in its common form: a dot-atom local part and a domain with a letter TLD. */
const EMAIL_PATTERN = /[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

const RESERVED = /(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost|local)$/i;
const NO_REPLY = /^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)\b/i;

export function emailAddressDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'email-address-bulk',
    pattern: new RegExp(EMAIL_PATTERN.source, 'g'),
    maxMatchChars: 64 + 1 + 255,
    rule,
    distinct: true,
    check(m) {
      if (followsWord(m) || m.input[m.index - 1] === '.') return undefined;
      const [local = '', domain = ''] = m[0].split('@');
      return RESERVED.test(domain) || NO_REPLY.test(local) ? 'low' : 'medium';
    },
  };
}
