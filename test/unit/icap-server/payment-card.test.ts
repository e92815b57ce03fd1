import { describe, expect, it } from 'vitest';
import { cardBrand, isPaymentCard, luhnValid } from '../../../src/icap-server/detectors/payment-card.js';
import { scan } from './helpers.js';

// Published test numbers of the card networks and payment processors.
const TEST_CARDS: Array<[string, string]> = [
  ['4111111111111111', 'visa'],
  ['4012888888881881', 'visa'],
  ['4222222222222', 'visa'],
  ['5555555555554444', 'mastercard'],
  ['5105105105105100', 'mastercard'],
  ['2223003122003222', 'mastercard'],
  ['378282246310005', 'amex'],
  ['371449635398431', 'amex'],
  ['6011111111111117', 'discover'],
  ['6011000990139424', 'discover'],
  ['3530111333300000', 'jcb'],
  ['3566002020360505', 'jcb'],
  ['30569309025904', 'diners'],
  ['38520000023237', 'diners'],
  ['6200000000000005', 'unionpay'],
];

describe('payment card checks', () => {
  it.each(TEST_CARDS)('%s is a %s card', (digits, brand) => {
    expect(luhnValid(digits)).toBe(true);
    expect(cardBrand(digits)).toBe(brand);
    expect(isPaymentCard(digits)).toBe(true);
  });

  it('rejects Luhn failures, unknown issuer ranges and wrong lengths', () => {
    expect(isPaymentCard('4111111111111112')).toBe(false); // Luhn
    expect(isPaymentCard('5555555555554445')).toBe(false);
    expect(luhnValid('1234567812345670')).toBe(true);
    expect(isPaymentCard('1234567812345670')).toBe(false); // no issuer starts with 1
    expect(isPaymentCard('5605105105105108')).toBe(false); // 56 is not Mastercard
    expect(isPaymentCard('27210000000000000')).toBe(false); // 2721 is past the 2-series
    expect(isPaymentCard('37828224631000')).toBe(false); // Amex has 15 digits
  });
});

describe('payment card detector on text', () => {
  it('finds plain, spaced and dashed card numbers', async () => {
    expect(await scan('card: 4111111111111111 thanks')).toEqual(['payment-card']);
    expect(await scan('card 4111 1111 1111 1111.')).toEqual(['payment-card']);
    expect(await scan('amex 3782-822463-10005')).toEqual(['payment-card']);
    expect(await scan('"cc":"5555555555554444"')).toEqual(['payment-card']);
  });

  it('does not report a digit run that fails Luhn', async () => {
    expect(await scan('order 4111111111111112 shipped')).toEqual([]);
    expect(await scan('4111 1111 1111 1112')).toEqual([]);
  });

  it('does not report a valid card number inside a longer digit run or a decimal', async () => {
    expect(await scan('id 94111111111111111 and 41111111111111119')).toEqual([]);
    expect(await scan('x=3.4111111111111111 y=4111111111111111.5')).toEqual([]);
    expect(await scan('token abc4111111111111111 or 4111111111111111xyz')).toEqual([]);
  });

  it('finds a card written as a form value in a URL query (+ for each space), in JSON, a log line or a text body', async () => {
    const json = '{"redirect":"https://shop.example/pay?name=J+Doe&cc=4111+1111+1111+1111&exp=05%2F28"}';
    expect(await scan(json, { content: { contentType: 'application/json' } })).toEqual(['payment-card']);
    expect(await scan('GET /checkout?cc=5500+0000+0000+0004 HTTP/1.1 200')).toEqual(['payment-card']);
    expect(await scan('amex 3782+822463+10005')).toEqual(['payment-card']);
    // sums, versions and phone numbers with + are not cards: Luhn, the issuer table and the shape decide
    expect(await scan('total 4111+1111+1111+1112 and 2024+1000+2000 and call +1 555 0100')).toEqual([]);
    expect(await scan('4111+1111 1111+1111')).toEqual([]);
  });

  it('a C++ file name is no card keyword: an OSS-Fuzz test case id beside hb-subset.cc in a changelog is no card; a member named cc still labels one', async () => {
    const changelog = [
      '    [subset] fail on offset overflow in tables that we don\'t repack.',
      '    Fixes: https://oss-fuzz.com/testcase-detail/5229304507138048',
      '',
      ' src/hb-subset.cc                                        |   5 ++++-',
      ' ...testcase-minimized-hb-subset-fuzzer-5229304507138048 | Bin 0 -> 56552 bytes',
    ].join('\n');
    expect(await scan(changelog)).toEqual([]);
    expect(await scan('payment.cc = "4111111111111111";')).toEqual(['payment-card']);
    expect(await scan('cc 4111111111111111 exp 05/28')).toEqual(['payment-card']);
  });

  it('does not mix separators and finds a card followed by another number', async () => {
    expect(await scan('4111 1111-1111 1111')).toEqual([]);
    expect(await scan('4111 1111 1111 1111 123')).toEqual(['payment-card']);
  });

  it('honours the configured minimum count', async () => {
    const icapServer = { detectors: { paymentCards: { minCount: 3 } } };
    expect(await scan('4111111111111111 and 5555555555554444', { icapServer })).toEqual([]);
    expect(await scan('cards: 4111111111111111, 5555555555554444, 378282246310005', { icapServer })).toEqual(['payment-card']);
  });

  it('can be disabled', async () => {
    expect(await scan('4111111111111111', { icapServer: { detectors: { paymentCards: { enabled: false } } } })).toEqual([]);
  });
});
