// Cloud and SaaS credentials with a documented fixed prefix, one table row each: the prefix keeps
// the scan cheap and the shape keeps ordinary words out. A match is medium; beside the vendor's
// name (or "key", "token", "secret") it is high; made of few distinct characters it is low
// (placeholders in documentation).
import { lowEntropy } from './credentials.js';
import { keywordNear, keywordPattern } from './evidence.js';
import { followsWord, type DetectorRule, type PatternDetector } from './text-detector.js';

interface TokenFormat {
  name: string;
  /** literals one of which every match holds (see PatternDetector.triggers) */
  triggers: string[];
  pattern: RegExp;
  maxMatchChars: number;
  keywords: readonly string[];
}

const SECRET_WORDS = ['key', 'api key', 'apikey', 'token', 'secret', 'password', 'credential', 'credentials'];

const FORMATS: TokenFormat[] = [
  // Google Cloud API keys: "AIza" and 35 characters of [A-Za-z0-9_-].
  { name: 'google-api-key', triggers: ['AIza'], pattern: /AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, maxMatchChars: 39, keywords: ['google', 'gcp', 'firebase', 'maps'] },
  // Stripe live secret and restricted keys (test keys, sk_test_, cannot move money).
  { name: 'stripe-secret-key', triggers: ['_live_'], pattern: /(?:sk|rk)_live_[0-9A-Za-z]{24,99}(?![0-9A-Za-z])/g, maxMatchChars: 107, keywords: ['stripe'] },
  { name: 'gitlab-token', triggers: ['glpat-'], pattern: /glpat-[0-9A-Za-z_-]{20}(?![0-9A-Za-z_-])/g, maxMatchChars: 26, keywords: ['gitlab'] },
  { name: 'npm-token', triggers: ['npm_'], pattern: /npm_[0-9A-Za-z]{36}(?![0-9A-Za-z])/g, maxMatchChars: 40, keywords: ['npm', 'npmrc', 'registry'] },
  { name: 'sendgrid-api-key', triggers: ['SG.'], pattern: /SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])/g, maxMatchChars: 69, keywords: ['sendgrid'] },
  { name: 'openai-api-key', triggers: ['T3BlbkFJ'], pattern: /sk-(?:proj-|svcacct-|admin-)?[0-9A-Za-z_-]{20,160}T3BlbkFJ[0-9A-Za-z_-]{20,160}(?![0-9A-Za-z_-])/g, maxMatchChars: 340, keywords: ['openai', 'gpt', 'chatgpt'] },
  { name: 'slack-webhook', triggers: ['hooks.slack.com/'], pattern: /https:\/\/hooks\.slack\.com\/services\/T[0-9A-Z]{8,12}\/B[0-9A-Z]{8,12}\/[0-9A-Za-z]{24}(?![0-9A-Za-z])/g, maxMatchChars: 90, keywords: ['slack', 'webhook'] },
  // Azure storage connection strings: the account key is 64 bytes in base64 (88 characters).
  { name: 'azure-storage-key', triggers: ['AccountKey='], pattern: /AccountKey=[0-9A-Za-z+/]{86}==/g, maxMatchChars: 99, keywords: ['azure', 'storage', 'blob', 'DefaultEndpointsProtocol'] },
];

export function saasTokenDetectors(rule: DetectorRule): PatternDetector[] {
  return FORMATS.map((format) => {
    const keywords = keywordPattern([...format.keywords, ...SECRET_WORDS]);
    return {
      type: 'pattern',
      name: format.name,
      triggers: format.triggers,
      pattern: new RegExp(format.pattern.source, 'g'),
      maxMatchChars: format.maxMatchChars,
      rule,
      check(m) {
        if (followsWord(m)) return undefined;
        if (lowEntropy(m[0].slice(m[0].length - 20))) return 'low';
        return keywordNear(m, keywords) ? 'high' : 'medium';
      },
    } satisfies PatternDetector;
  });
}
