import { describe, expect, it } from 'vitest';
import { ibanChecksumValid, isIban } from '../../../src/icap-server/detectors/iban.js';
import { isUsSsn } from '../../../src/icap-server/detectors/us-ssn.js';
import { scan } from './helpers.js';

// Example IBANs published by the national banks / the SWIFT registry.
const IBANS = [
  'DE89 3704 0044 0532 0130 00',
  'GB82 WEST 1234 5698 7654 32',
  'FR14 2004 1010 0505 0001 3M02 606',
  'NL91 ABNA 0417 1643 00',
  'BE68 5390 0754 7034',
  'CH93 0076 2011 6238 5295 7',
  'ES91 2100 0418 4502 0005 1332',
  'IT60 X054 2811 1010 0000 0123 456',
  'NO93 8601 1117 947',
  'MT84 MALT 0110 0001 2345 MTLC AST0 01S',
];

describe('IBAN', () => {
  it.each(IBANS)('%s is valid in printed and electronic form', async (printed) => {
    const compact = printed.replaceAll(' ', '');
    expect(isIban(compact)).toBe(true);
    expect(await scan(`pay to ${printed} today`)).toEqual(['iban']);
    expect(await scan(`iban=${compact};`)).toEqual(['iban']);
  });

  it('rejects a wrong check digit, a wrong length, an unknown country and lower case', async () => {
    expect(ibanChecksumValid('GB82WEST12345698765433')).toBe(false);
    expect(await scan('GB82 WEST 1234 5698 7654 33')).toEqual([]);
    expect(await scan('DE89 3704 0044 0532 0130 0')).toEqual([]);
    expect(isIban('ZZ89370400440532013000')).toBe(false);
    expect(await scan('de89 3704 0044 0532 0130 00')).toEqual([]);
    expect(await scan('PART1234 ABCD EFGH')).toEqual([]);
  });

  it('finds a printed IBAN followed by another group of digits', async () => {
    expect(await scan('BE68 5390 0754 7034 2024')).toEqual(['iban']);
  });
});

describe('US SSN', () => {
  it('finds formatted numbers in issued ranges', async () => {
    expect(isUsSsn('123', '45', '6780')).toBe(true);
    expect(await scan('SSN: 536-22-1234.')).toEqual(['us-ssn']);
    expect(await scan('ssn 536 22 1234')).toEqual(['us-ssn']);
  });

  it('excludes ranges the SSA never issues and published numbers', async () => {
    for (const ssn of ['000-12-3456', '666-12-3456', '912-12-3456', '536-00-1234', '536-22-0000', '078-05-1120', '219-09-9999', '123-45-6789']) {
      expect(await scan(`ssn ${ssn}`), ssn).toEqual([]);
    }
  });

  it('does not match mixed separators, unformatted runs or longer numbers', async () => {
    expect(await scan('536-22 1234')).toEqual([]);
    expect(await scan('536221234')).toEqual([]);
    expect(await scan('1536-22-1234 and 536-22-12345 and 555-536-22-1234')).toEqual([]);
  });
});
