// The block page speaks plainly; the JSON and the logs keep the detector names.
import { describe, expect, it } from 'vitest';
import { renderPage } from '../../../src/enforce/index.js';
import { plainViolation } from '../../../src/enforce/violation-names.js';

describe('violation names in plain words', () => {
  it.each([
    ['payment-card', 'a payment card number'],
    ['keyword:classified', 'content matching the rule "classified"'],
    ['policy:no-pastebins', 'the site policy "no-pastebins"'],
    ['file-type:pe', 'a Windows program'],
    ['Eicar-Test-Signature.UNOFFICIAL', 'Eicar-Test-Signature.UNOFFICIAL'],
  ])('%s → %s', (name, plain) => expect(plainViolation(name)).toBe(plain));

  it('shows plain words on the HTML page and the raw names in JSON', () => {
    const fields = { host: 'files.example.com', direction: 'upload' as const, incidentId: '01abcdefgh234567', violations: ['payment-card', 'payment-card', 'iban'] };
    const html = renderPage('block', fields, 'text/html').body.toString();
    expect(html).toContain('a payment card number, a bank account number (IBAN)');
    const json = JSON.parse(renderPage('block', fields, 'application/json').body.toString());
    expect(json.violations).toEqual(['payment-card', 'payment-card', 'iban']);
  });
});
