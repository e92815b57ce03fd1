// Secrets that must not leave: PEM private keys, AWS access key ids and secret keys, GitHub and
// Slack tokens (the other vendors' formats are in saas-tokens.ts). Each pattern is anchored on the
// vendor's fixed prefix, so the scan costs little on ordinary text; placeholders (AWS's …EXAMPLE…,
// ghp_xxxx…) are not findings or are low confidence.
import { keywordNear, keywordPattern } from './evidence.js';
import { followsWord, type DetectorRule, type PatternDetector } from './text-detector.js';

/** True when a token is made of too few distinct characters to be random (`xxxx…`, `0000…`). */
export function lowEntropy(token: string): boolean {
  return new Set(token).size < Math.min(10, token.length / 3);
}

/**
 * A PEM private key block header. High when base64 key material follows it (RFC 7468 §2, after
 * optional headers such as Proc-Type), medium when nothing follows, low when prose or a
 * placeholder follows (documentation about keys quotes the header: `-----BEGIN … KEY-----\n...`).
 */
export function privateKeyDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'private-key',
    triggers: ['PRIVATE KEY'],
    pattern: /-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/g,
    maxMatchChars: 48,
    rule,
    check(m) {
      const after = m.input.slice(m.index + m[0].length, m.index + m[0].length + 240).replace(/\r/g, '');
      if (/^\s*(?:[\w-]+: [^\n]*\n)*\s*[A-Za-z0-9+/=]{40,}/.test(after)) return 'high';
      return /^[\s"'\\,}\]]*$/.test(after) ? 'medium' : 'low';
    },
  };
}

const AWS_KEYWORDS = keywordPattern(['aws', 'amazon', 'access key', 'access key id', 'accesskeyid', 'aws access key id', 'iam']);

export function awsAccessKeyIdDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'aws-access-key-id',
    triggers: ['AKIA', 'ASIA'],
    pattern: /(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    maxMatchChars: 20,
    rule,
    check(m) {
      if (followsWord(m) || m[0].endsWith('EXAMPLE')) return undefined;
      if (lowEntropy(m[0].slice(4))) return 'low';
      return keywordNear(m, AWS_KEYWORDS) ? 'high' : 'medium';
    },
  };
}

/**
 * A 40-character base64-alphabet token within 48 characters after "aws" or "secret"
 * (`aws_secret_access_key = …`, `"SecretAccessKey": "…"`). Real keys are random, so they mix
 * upper case, lower case and digits; a 40-digit hex SHA-1 beside the word "secret" does not.
 * The name starts a word (in any case) or a camelCase part (`mySecretKey`): "awS" inside a run of
 * random base64 is no name, and the 40 characters of its next wrapped line are no key.
 */
/** Two path segments of a word each (`/collection/parallel`): a file or class path, not a key. */
const PATH_SEGMENTS = /\/[a-z]{4}[^/]*\/[a-z]{4}/;

export function awsSecretKeyDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'aws-secret-key',
    triggers: ['aws', 'secret'],
    triggersIgnoreCase: true,
    // One line break may come between the name and the key: a PDF or a narrow column wraps there.
    // The name is matched first and its start checked by the lookbehind after it: a pattern that
    // starts with a lookbehind gives V8 no first character to search for, and ran 13x slower.
    pattern: /(?:[Aa][Ww][Ss]|[Ss][Ee][Cc][Rr][Ee][Tt])(?<=(?:^|[^A-Za-z0-9])(?:[Aa][Ww][Ss]|[Ss][Ee][Cc][Rr][Ee][Tt])|[a-z0-9](?:A(?:ws|WS)|S(?:ecret|ECRET)))(?:[^\n]|\n(?!\n)){0,48}?(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/g,
    maxMatchChars: 6 + 48 + 40,
    rule,
    // A key is 40 random base64 characters: both cases and a digit or a plus (40 random ones lack
    // both about once in 1,900), and no path. A Java class path near "AWS" in a class file
    // (`scala/collection/parallel/AdaptiveWorkSt` after `$AWSFJTWrappedTask;`, or with the length
    // byte before it, `6scala/collection/parallel/ForkJoinTasks`) is 40 such characters too; two
    // slashes each before four lower-case letters come in about one random key in 9,000.
    check(m) {
      const key = m[1] ?? '';
      return /[A-Z]/.test(key) && /[a-z]/.test(key) && /[0-9+]/.test(key) && !PATH_SEGMENTS.test(key) && !key.includes('EXAMPLE') ? 'high' : undefined;
    },
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(text: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = (CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** GitHub's token format (2021): 30 random characters, then their CRC32 in six base62 digits. */
export function githubChecksumValid(token: string): boolean {
  const body = token.slice(4, 34);
  let n = crc32(body);
  let encoded = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / 62)) encoded = BASE62[n % 62] + encoded;
  return encoded === token.slice(34);
}

/** Classic tokens (ghp_ personal, gho_ OAuth, ghu_ user-to-server, ghs_ server, ghr_ refresh) and fine-grained PATs. */
export function githubTokenDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'github-token',
    triggers: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    pattern: /(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{59,255})(?![A-Za-z0-9_])/g,
    maxMatchChars: 11 + 255,
    rule,
    check(m) {
      if (followsWord(m)) return undefined;
      if (lowEntropy(m[0].slice(4))) return 'low';
      return m[0].startsWith('github_pat_') || githubChecksumValid(m[0]) ? 'high' : 'medium';
    },
  };
}

const SLACK_KEYWORDS = keywordPattern(['slack', 'token', 'bot token', 'oauth']);

/** xoxb- bot, xoxp- user, xoxa- app, xoxr- refresh, xoxs- session tokens: numeric parts, then a secret. */
export function slackTokenDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'slack-token',
    triggers: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-'],
    pattern: /xox[abprs]-(?:\d{1,20}-){1,3}[A-Za-z0-9]{8,64}(?![A-Za-z0-9-])/g,
    maxMatchChars: 5 + 3 * 21 + 64,
    rule,
    check(m) {
      if (followsWord(m)) return undefined;
      return keywordNear(m, SLACK_KEYWORDS) ? 'high' : 'medium';
    },
  };
}
