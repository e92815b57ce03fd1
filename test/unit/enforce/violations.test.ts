import { describe, expect, it } from 'vitest';
import { findings, parseInfectionFound, parseViolationsFound } from '../../../src/enforce/index.js';

describe('parseInfectionFound', () => {
  it.each([
    ['Type=0; Resolution=2; Threat=Eicar-Signature;', ['Eicar-Signature']],
    ['Type=0; Resolution=2; Threat=Win.Test.EICAR_HDB-1.UNOFFICIAL;', ['Win.Test.EICAR_HDB-1.UNOFFICIAL']],
    ['type=2;resolution=0;threat=Trojan Generic', ['Trojan Generic']],
    ['Type=0; Resolution=2;', []],
  ])('%s', (value, expected) => expect(parseInfectionFound(value)).toEqual(expected));
});

describe('parseViolationsFound', () => {
  it.each([
    ['folded into one line by the decoder', '1 - Eicar-Test-Signature 0 0', ['Eicar-Test-Signature']],
    ['two groups on one line', '2 a.zip Eicar-Test-Signature 0 0 b.exe Win.Trojan.Agent 1234 2', ['Eicar-Test-Signature', 'Win.Trojan.Agent']],
    ['a threat name with spaces', '1 report.docx Credit Card Number 17 2', ['Credit Card Number']],
    ['kept as lines', '1\r\n\t-\r\n\tEicar-Test-Signature\r\n\t0\r\n\t0', ['Eicar-Test-Signature']],
    ['not a count', 'garbage', []],
  ])('%s', (_name, value, expected) => expect(parseViolationsFound(value)).toEqual(expected));
});

describe('findings', () => {
  it('merges every header, deduplicated, in order, and takes X-Blocked-Reason as the reason', () => {
    const f = findings(
      new Map([
        ['x-infection-found', 'Type=0; Resolution=2; Threat=Eicar;'],
        ['x-violations-found', '1 - Eicar 0 0'],
        ['x-virus-id', 'Other'],
        ['x-attribute', 'DLP=100, PII=60'],
        ['x-blocked-reason', 'Malware'],
      ]),
    );
    expect(f).toEqual({ violations: ['Eicar', 'Other', 'DLP', 'PII'], reason: 'Malware' });
  });
  it('bounds what a peer can put in a page or a log line', () => {
    const f = findings(new Map([['x-virus-id', `${'A'.repeat(500)}\u0007`]]));
    expect(f.violations[0]!.length).toBe(200);
    expect(findings(new Map([['x-blocked-reason', 'line1\r\nline2']])).reason).toBe('line1 line2');
  });
  it('nothing found on a clean answer', () => {
    expect(findings(new Map([['istag', '"x"']]))).toEqual({ violations: [], reason: undefined });
  });
});
