// Secrets that must not leave: PEM private keys, AWS access key ids and secret keys, GitHub and
// Slack tokens. Each pattern is anchored on the vendor's fixed prefix, so the scan costs little
// on ordinary text; the placeholders AWS prints in its documentation (…EXAMPLE…) are ignored.
import { followsWord, type TextDetector } from './text-detector.js';

export function privateKeyDetector(): TextDetector {
  return {
    name: 'private-key',
    pattern: /-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/g,
    maxMatchChars: 48,
    minCount: 1,
  };
}

export function awsAccessKeyIdDetector(): TextDetector {
  return {
    name: 'aws-access-key-id',
    pattern: /(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    maxMatchChars: 20,
    minCount: 1,
    check: (m) => (followsWord(m) || m[0].endsWith('EXAMPLE') ? 0 : 1),
  };
}

/**
 * A 40-character base64-alphabet token within 48 characters after "aws" or "secret"
 * (`aws_secret_access_key = …`, `"SecretAccessKey": "…"`). Real keys are random, so they mix
 * upper case, lower case and digits; a 40-digit hex SHA-1 beside the word "secret" does not.
 */
export function awsSecretKeyDetector(): TextDetector {
  return {
    name: 'aws-secret-key',
    pattern: /(?:aws|secret)[^\n]{0,48}?(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    maxMatchChars: 6 + 48 + 40,
    minCount: 1,
    check(m) {
      const key = m[1] ?? '';
      return /[A-Z]/.test(key) && /[a-z]/.test(key) && /[0-9/+]/.test(key) && !key.includes('EXAMPLE') ? 1 : 0;
    },
  };
}

/** Classic tokens (ghp_ personal, gho_ OAuth, ghu_ user-to-server, ghs_ server, ghr_ refresh) and fine-grained PATs. */
export function githubTokenDetector(): TextDetector {
  return {
    name: 'github-token',
    pattern: /(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{59,255})(?![A-Za-z0-9_])/g,
    maxMatchChars: 11 + 255,
    minCount: 1,
    check: (m) => (followsWord(m) ? 0 : 1),
  };
}

/** xoxb- bot, xoxp- user, xoxa- app, xoxr- refresh, xoxs- session tokens: numeric parts, then a secret. */
export function slackTokenDetector(): TextDetector {
  return {
    name: 'slack-token',
    pattern: /xox[abprs]-(?:\d{1,20}-){1,3}[A-Za-z0-9]{8,64}(?![A-Za-z0-9-])/g,
    maxMatchChars: 5 + 3 * 21 + 64,
    minCount: 1,
    check: (m) => (followsWord(m) ? 0 : 1),
  };
}
