// E-mail address bulk: one address is a signature, a customer list is a leak. Each distinct
// address (lower-cased) counts once per body, and the rule's minimum count is the bulk threshold.
// Addresses at reserved example and test domains (RFC 2606, RFC 6761) and no-reply senders are
// low confidence: documentation and notifications are full of them.
import type { DetectorRule, PatternDetector } from './text-detector.js';

/**
 * RFC 5321 §4.1.2 in its common form. The pattern starts at the "@" (a literal the engine finds
 * fast) and covers the domain; the check reads the dot-atom local part backwards from there.
 */
const DOMAIN_PATTERN = /@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

const AT_SIGN = /@/g;

const RESERVED = /(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost|local)$/i;
/**
 * File name extensions that are no top-level domain (none is in the root zone or the public suffix
 * list): `logo@2x.png`, `icon@3x.webp` and `bundle@1x.js` in web pages, style sheets and source
 * maps are file names. Extensions that are also TLDs (.py, .sh, .md, .io, .zip, .app) still count.
 */
const FILE_EXTENSIONS = new Set(
  'js mjs cjs jsx ts tsx json png jpg jpeg gif svg webp ico bmp tif tiff heic avif psd css scss sass less styl html htm xml txt yml yaml toml ini cfg conf lock log csv tsv pdf doc docx xls xlsx ppt pptx odt ods rtf epub class jar war exe dll bin dat tmp bak swp woff woff2 ttf otf eot mp3 mp4 m4a wav ogg flac aac avi mkv webm flv wmv tar tgz gz bz2 xz whl gem rb php asp aspx jsp vue svelte wasm pyc cpp hpp kt swift scala pem crt der csr sql sqlite dmg iso img apk ipa deb rpm msi bat cmd ps1 patch diff orig rej lua dart'.split(' '),
);

const NO_REPLY = /^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)\b/i;

/**
 * The local part before the "@" at `at`: up to 64 characters of A-Z a-z 0-9 . _ % + -, starting
 * with a letter or digit. The letter of an escape (`\n@external.js` in a source map or a JSON
 * string) is no part of it.
 */
function localPart(text: string, at: number): string {
  let start = at;
  while (start > 0 && at - start < 64 && /[A-Za-z0-9._%+-]/.test(text[start - 1] as string)) start--;
  if (start > 0 && start < at && text[start - 1] === '\\') start++;
  while (start < at && !/[A-Za-z0-9]/.test(text[start] as string)) start++;
  return text.slice(start, at);
}

export function emailAddressDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'email-address-bulk',
    // Run at each '@' only: a one-character literal is a plain string search for the engine,
    // where the pattern's own pass read every character of a window that had no '@' at all.
    pattern: new RegExp(DOMAIN_PATTERN.source, 'y'),
    anchor: AT_SIGN,
    maxMatchChars: 64 + 1 + 255,
    rule,
    distinctValue: (m) => `${localPart(m.input, m.index)}${m[0]}`.toLowerCase(),
    check(m) {
      const local = localPart(m.input, m.index);
      if (local === '' || FILE_EXTENSIONS.has(m[0].slice(m[0].lastIndexOf('.') + 1).toLowerCase())) return undefined;
      return RESERVED.test(m[0].slice(1)) || NO_REPLY.test(local) ? 'low' : 'medium';
    },
  };
}
