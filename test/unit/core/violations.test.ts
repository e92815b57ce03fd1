import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../../src/core/exchange.js';
import type { VerdictEvent } from '../../../src/core/events.js';
import { splitViolation, violationNames } from '../../../src/core/violations.js';
import { violationFields } from '../../../src/log/violation-fields.js';

describe('violation names with counts (the built-in service: `payment-card x3`)', () => {
  it('splits a counted name and leaves every other name whole', () => {
    expect(splitViolation('payment-card x3')).toEqual({ name: 'payment-card', count: 3 });
    expect(splitViolation('Eicar-Signature')).toEqual({ name: 'Eicar-Signature' });
    // a vendor name with spaces, or an x that is not a count, is a name
    expect(splitViolation('Credit Card Numbers x3')).toEqual({ name: 'Credit Card Numbers x3' });
    expect(splitViolation('payment-card x')).toEqual({ name: 'payment-card x' });
    expect(splitViolation('payment-card x1234567890')).toEqual({ name: 'payment-card x1234567890' });
  });

  it('names once each, in order, with the counts summed', () => {
    expect(violationNames(['payment-card x3', 'us-ssn x1', 'eicar', 'payment-card x2', 'eicar'])).toEqual({
      names: ['payment-card', 'us-ssn', 'eicar'],
      counts: { 'payment-card': 5, 'us-ssn': 1 },
    });
  });

  it('logs, incidents and alerts get the bare names (what routes and filters match)', () => {
    const exchange = { id: 'inc1', client: { ip: '10.0.0.1', port: 1 }, method: 'POST', host: 'h.example', path: '/up' } as Exchange;
    const event = (violations: string[]): VerdictEvent => ({
      exchange,
      direction: 'upload',
      service: 'dlp',
      verdict: { action: 'block', violations, source: 'icap' },
      istag: 't',
      sha256: undefined,
      sizeBytes: 10,
      monitored: false,
      rule: 'uploads',
    });
    const counted = violationFields(event(['payment-card x3', 'us-ssn x1']));
    expect(counted.violations).toEqual(['payment-card', 'us-ssn']);
    const plain = violationFields(event(['Eicar-Signature']));
    expect(plain.violations).toEqual(['Eicar-Signature']);
  });
});
