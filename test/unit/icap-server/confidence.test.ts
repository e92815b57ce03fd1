// Detectors with confidence (issue 13): supporting evidence raises a match, a numeric table or a
// label naming something else lowers it, and each rule blocks at its minimum confidence and count.
import { describe, expect, it } from 'vitest';
import { isEuVat } from '../../../src/icap-server/detectors/eu-vat.js';
import { isUkNino } from '../../../src/icap-server/detectors/uk-nino.js';
import { scan } from './helpers.js';

const low = (detector: string) => ({ detectors: { [detector]: { minConfidence: 'low' } } });
const high = (detector: string) => ({ detectors: { [detector]: { minConfidence: 'high' } } });

describe('payment cards by confidence', () => {
  it('blocks the bodies people send by default: a keyword, an expiry, a payment word or the grouped form', async () => {
    for (const body of [
      'card=4111 1111 1111 1111',
      'invoice paid with 4111 1111 1111 1111, thanks',
      'my card is 4111 1111 1111 1111, exp 12/29',
      'card 4111 1111 1111 1111 end',
      'Please charge 4111111111111111 for the invoice',
      '4111-1111-1111-1111',
      'name=Jane&card=4111+1111+1111+1111',
    ]) {
      expect(await scan(body, { content: { contentType: body.includes('&') ? 'application/x-www-form-urlencoded' : 'text/plain' } }), body).toEqual(['payment-card']);
    }
  });

  it('does not block a Luhn-valid number in a numeric table, a CSV of ids or a log of trace ids', async () => {
    const tsv = ['sample\tdepth_mm\treading\tbatch', '1\t12.5\t4111111111111111\t7781', '2\t12.7\t5555555555554444\t7782', '3\t13.1\t378282246310005\t7783'].join('\n');
    expect(await scan(tsv)).toEqual([]);
    const csv = ['event_id,ts,user', '4111111111111111,2024-05-17T10:22:31Z,1042', '6011111111111117,2024-05-17T10:22:32Z,1043'].join('\n');
    expect(await scan(csv)).toEqual([]);
    const log = '2024-05-17T10:22:31Z INFO request served trace_id=4111111111111111 span=77 status=200 bytes=5120\n';
    expect(await scan(log)).toEqual([]);
    expect(await scan('{"orderId": 4111111111111111, "items": 3}', { content: { contentType: 'application/json' } })).toEqual([]);
    // low confidence is still a finding: a rule at `low` blocks them all
    expect(await scan(tsv, { icapServer: low('paymentCards') })).toEqual(['payment-card']);
    expect(await scan(log, { icapServer: low('paymentCards') })).toEqual(['payment-card']);
  });

  it('a column header or a label naming a card makes a table cell high confidence', async () => {
    const csv = ['name,card_number,amount', 'Jane Roe,4111111111111111,12.00', 'John Doe,5555555555554444,8.50'].join('\n');
    expect(await scan(csv, { icapServer: high('paymentCards') })).toEqual(['payment-card']);
    expect(await scan('cardNumber: 4111111111111111', { icapServer: high('paymentCards') })).toEqual(['payment-card']);
    expect(await scan('{"pan":"4111111111111111"}', { content: { contentType: 'application/json' }, icapServer: high('paymentCards') })).toEqual(['payment-card']);
  });

  it('reads a CSV comma as a cell boundary, not a decimal mark (4136 5209 9055 6611,05/28)', async () => {
    expect(await scan('4136 5209 9055 6611,05/28,Jane Roe')).toEqual(['payment-card']);
    expect(await scan('card,4136520990556611,05/28')).toEqual(['payment-card']);
    expect(await scan('x=4111111111111111,5')).toEqual([]);
  });

  it('the digits of a printed IBAN are not a card (CH33 2537 5490 1206 9534 5 holds a Luhn-valid 2-series run)', async () => {
    expect(await scan('please wire the deposit to IBAN CH33 2537 5490 1206 9534 5 by Friday.')).toEqual(['iban']);
    expect(await scan('card 2537 5490 1206 9534 on file')).toEqual(['payment-card']);
  });

  it('the grouped form in prose is medium: a rule at high needs a keyword or an expiry', async () => {
    expect(await scan('ref 4111 1111 1111 1111 today', { icapServer: high('paymentCards') })).toEqual([]);
    expect(await scan('visa 4111 1111 1111 1111 today', { icapServer: high('paymentCards') })).toEqual(['payment-card']);
    expect(await scan('ref 4111 1111 1111 1111 valid 11/27', { icapServer: high('paymentCards') })).toEqual(['payment-card']);
    // a date is not an expiry
    expect(await scan('ref 4111 1111 1111 1111 on 05/17/2024', { icapServer: high('paymentCards') })).toEqual([]);
  });
});

describe('US SSN by confidence', () => {
  it('dashed alone is medium, spaced alone low, under another label low', async () => {
    expect(await scan('applicant 536-22-1234 approved')).toEqual(['us-ssn']);
    expect(await scan('applicant 536 22 1234 approved')).toEqual([]);
    expect(await scan('part_no: 536-22-1234')).toEqual([]);
    expect(await scan('social security number 536 22 1234')).toEqual(['us-ssn']);
    expect(await scan('applicant 536-22-1234 approved', { icapServer: high('usSsn') })).toEqual([]);
    expect(await scan('SSN: 536-22-1234', { icapServer: high('usSsn') })).toEqual(['us-ssn']);
  });
});

describe('UK National Insurance numbers', () => {
  it('checks the prefix letters, suffix and never-allocated pairs', () => {
    expect(isUkNino('AB123456C')).toBe(true);
    expect(isUkNino('DA123456C')).toBe(false); // D is never a first letter
    expect(isUkNino('AO123456C')).toBe(false); // O is never a second letter
    expect(isUkNino('GB123456A')).toBe(false);
    expect(isUkNino('AB123456E')).toBe(false);
  });

  it('spaced alone is medium, compact needs a keyword, the rule can be switched off', async () => {
    expect(await scan('employee AB 12 34 56 C joined')).toEqual(['uk-nino']);
    expect(await scan('sku AB123456C in stock')).toEqual([]);
    expect(await scan('National Insurance number AB123456C')).toEqual(['uk-nino']);
    expect(await scan('NI number: AB 12 34 56 C', { icapServer: { detectors: { ukNino: { enabled: false } } } })).toEqual([]);
  });
});

describe('EU VAT ids', () => {
  it.each(['DE136695976', 'FR40303265045', 'IT00743110157', 'NL004495445B01', 'ATU13585627', 'BE0403170701', 'PL5261040828', 'DK13585628', 'FI20774740', 'PT501964843', 'SE556188840401', 'LU15027442', 'SI59082437', 'EL094259216', 'ESA28015865'])(
    '%s passes its national check',
    (id) => expect(isEuVat(id)).toBe(true),
  );

  it('rejects a wrong check digit and an unknown prefix', () => {
    expect(isEuVat('DE136695977')).toBe(false);
    expect(isEuVat('PL5261040827')).toBe(false);
    expect(isEuVat('ZZ123456789')).toBe(false);
  });

  it('needs a VAT keyword to block by default; printed groups are read', async () => {
    expect(await scan('USt-IdNr.: DE 136 695 976')).toEqual(['eu-vat']);
    expect(await scan('Our VAT number is FR40303265045.')).toEqual(['eu-vat']);
    expect(await scan('order DE136695976 shipped')).toEqual([]);
    expect(await scan('order DE136695976 shipped', { icapServer: low('euVat') })).toEqual(['eu-vat']);
  });
});

describe('e-mail address bulk', () => {
  const list = (n: number, domain = 'corp-mail.net') => Array.from({ length: n }, (_, i) => `user${i}.name@${domain}`).join('; ');

  it('counts distinct addresses against the bulk threshold', async () => {
    expect(await scan(list(49))).toEqual([]);
    expect(await scan(list(50))).toEqual(['email-address-bulk']);
    // the same address many times is one address
    expect(await scan(Array.from({ length: 200 }, () => 'Jane.Roe@corp-mail.net').join(', '))).toEqual([]);
    expect(await scan(list(5), { icapServer: { detectors: { emailAddresses: { minCount: 5 } } } })).toEqual(['email-address-bulk']);
  });

  it("an escape's letter before an @ is no address (a source map's `\\n@decorator.name`)", async () => {
    const bulk = { icapServer: { detectors: { emailAddresses: { minCount: 2 } } } };
    expect(await scan('"sourcesContent":["@external.js(\\"env\\")\\n@inline.js(\\"x\\")\\r@global.ts"]', { content: { contentType: 'text/plain' }, ...bulk })).toEqual([]);
    expect(await scan('write to \\njane.roe@corp-mail.net and \\tjohn.doe@corp-mail.net', bulk)).toEqual(['email-address-bulk']);
  });

  it('a file name is no address: `icon@2x.png` in a style sheet; a domain whose TLD is also an extension still counts', async () => {
    const images = Array.from({ length: 80 }, (_, i) => `.i${i} { background: url(img/icon-${i}@2x.png) } .j${i} { background: url(img/logo-${i}@3x.WEBP) }`).join('\n');
    expect(await scan(images, { content: { contentType: 'text/css' } })).toEqual([]);
    expect(await scan(Array.from({ length: 60 }, (_, i) => `bundle-${i}@1x.min.js`).join(' '))).toEqual([]);
    expect(await scan(list(50, 'mail.corp.io'))).toEqual(['email-address-bulk']);
    expect(await scan(list(50, 'shop.py'))).toEqual(['email-address-bulk']);
  });

  it('reserved example domains are low confidence', async () => {
    expect(await scan(list(80, 'example.com'))).toEqual([]);
    expect(await scan(list(80, 'example.com'), { icapServer: low('emailAddresses') })).toEqual(['email-address-bulk']);
  });
});

describe('cloud and SaaS credentials', () => {
  it.each([
    ['google-api-key', 'maps key AIzaSyD4nq8K2mP0vXz7QwErTy5UiOpAsDfGhJk'],
    ['stripe-secret-key', 'STRIPE_KEY=sk_live_51Hx9aQ2eZvKYlo2C8Rt7pWm3N'],
    ['gitlab-token', 'token glpat-Xy7pQ2mZr9Lk4vWn8TbC'],
    ['npm-token', '//registry.npmjs.org/:_authToken=npm_a8Kd93mZq7Lp2Xv5Rt1Nw6Yc4Bh0Jf3Gs9Qe'],
    ['sendgrid-api-key', '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'],
    ['slack-webhook', 'https://hooks.slack.com/services/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'],
    ['azure-storage-key', `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${'k9Xq2LmP7zRv4TnW8sYb3Hc6Jd1Fg5Ke0'.repeat(3).slice(0, 86)}==;`],
  ])('%s', async (name, body) => {
    expect(await scan(body)).toEqual([name]);
    expect(await scan(body, { icapServer: { detectors: { credentials: { enabled: false } } } })).toEqual([]);
  });

  it('placeholders made of one repeated character are low confidence', async () => {
    expect(await scan('GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx')).toEqual([]);
    expect(await scan('token ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')).toEqual([]);
  });
});

describe('custom rules with the same knobs', () => {
  it('supportingWords make a match high; minConfidence high then needs them', async () => {
    const icapServer = { detectors: { regexes: [{ name: 'employee-id', pattern: 'E-[0-9]{6}', minConfidence: 'high', supportingWords: ['employee', 'staff'] }] } };
    expect(await scan('ticket E-123456 closed', { icapServer })).toEqual([]);
    expect(await scan('staff E-123456 record', { icapServer })).toEqual(['regex:employee-id']);
    const keywords = { detectors: { keywords: [{ name: 'falcon', words: ['Falcon'], minConfidence: 'high', supportingWords: ['project'] }] } };
    expect(await scan('a falcon flew by', { icapServer: keywords })).toEqual([]);
    expect(await scan('the Falcon project plan', { icapServer: keywords })).toEqual(['keyword:falcon']);
  });
});

describe('rule knobs on the built-in detectors', () => {
  it('minCount counts only findings at or above minConfidence', async () => {
    const icapServer = { detectors: { iban: { minCount: 2 } } };
    expect(await scan('iban DE89370400440532013000', { icapServer })).toEqual([]);
    expect(await scan('iban DE89370400440532013000 and GB82WEST12345698765432', { icapServer })).toEqual(['iban']);
    expect(await scan('DE89370400440532013000 GB82WEST12345698765432', { icapServer: { detectors: { iban: { minCount: 2, minConfidence: 'high' } } } })).toEqual([]);
  });
});

describe('every detector key changes the outcome', () => {
  // A body each detector reports once at medium confidence (so `high` drops it, and minCount 2),
  // and a body with two findings: far apart, as two card numbers side by side read as a table.
  const far = ` ${'and some ordinary words in between '.repeat(6)}\n`;
  const KEY = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun';
  const MEDIUM: Array<[key: string, name: string, body: string, twice: string]> = [
    ['paymentCards', 'payment-card', 'ref 4111 1111 1111 1111 today', `ref 4111 1111 1111 1111 ${far} also 5555 5555 5555 4444`],
    ['iban', 'iban', 'ref GB82 WEST 1234 5698 7654 32 today', `ref GB82 WEST 1234 5698 7654 32 ${far} DE89 3704 0044 0532 0130 00`],
    ['usSsn', 'us-ssn', 'ref 536-22-1234 today', `ref 536-22-1234 ${far} 412-55-9876`],
    ['ukNino', 'uk-nino', 'ref AB 12 34 56 C today', `ref AB 12 34 56 C ${far} CE 98 76 54 A`],
    ['privateKeys', 'private-key', '-----BEGIN PRIVATE KEY-----', `-----BEGIN PRIVATE KEY-----\n${KEY}\n${far}-----BEGIN EC PRIVATE KEY-----\n${KEY}`],
    ['credentials', 'github-token', 'ref ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A today', `ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A ${far} ghp_zB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A`],
  ];
  it.each(MEDIUM)('%s: enabled, minCount and minConfidence', async (key, name, body, twice) => {
    expect(await scan(body)).toEqual([name]);
    expect(await scan(body, { icapServer: { detectors: { [key]: { enabled: false } } } })).toEqual([]);
    expect(await scan(body, { icapServer: { detectors: { [key]: { minCount: 2 } } } })).toEqual([]);
    expect(await scan(twice, { icapServer: { detectors: { [key]: { minCount: 2 } } } })).toEqual([name]);
    expect(await scan(body, { icapServer: { detectors: { [key]: { minConfidence: 'high' } } } })).toEqual([]);
  });

  it('euVat and emailAddresses: enabled switches them off', async () => {
    expect(await scan('VAT number DE136695976', { icapServer: { detectors: { euVat: { enabled: false } } } })).toEqual([]);
    const list = Array.from({ length: 60 }, (_, i) => `p${i}@corp-mail.net`).join(' ');
    expect(await scan(list)).toEqual(['email-address-bulk']);
    expect(await scan(list, { icapServer: { detectors: { emailAddresses: { enabled: false } } } })).toEqual([]);
    expect(await scan(list, { icapServer: { detectors: { emailAddresses: { minConfidence: 'high' } } } })).toEqual([]);
    expect(await scan('VAT DE136695976 and VAT DE136695976', { icapServer: { detectors: { euVat: { minCount: 3 } } } })).toEqual([]);
  });
});

