// The record: the violation log line's fields (violationFields), each bounded in length; and the
// check a record sent by a cluster worker must pass before it joins a batch.
import { describe, expect, it } from 'vitest';
import { boundRecord, FIELD_LIMITS, isIncidentRecord, toIncidentRecord } from '../../../src/incidents/incident-record.js';
import type { ViolationFields } from '../../../src/log/violation-fields.js';
import { incident } from '../../support/incident-store-contract.js';

const fields: ViolationFields = {
  incident: '01m95avsqe3b9g86',
  time: '2026-12-06T10:00:00.000Z',
  client: '10.1.2.3',
  user: undefined,
  method: 'POST',
  host: 'paste.example',
  path: '/new',
  direction: 'upload',
  service: undefined,
  istag: undefined,
  rule: 'no-paste',
  action: 'block',
  source: 'policy',
  violations: [],
  reason: undefined,
  sizeBytes: 0,
  sha256: undefined,
};

describe('incident records', () => {
  it('are the violation log fields, with absent optional fields absent (not undefined)', () => {
    const record = toIncidentRecord(fields);
    expect(record).toEqual({ incident: '01m95avsqe3b9g86', time: '2026-12-06T10:00:00.000Z', client: '10.1.2.3', method: 'POST', host: 'paste.example', path: '/new', direction: 'upload', rule: 'no-paste', source: 'policy', violations: [], sizeBytes: 0, action: 'block' });
    expect(Object.keys(record)).not.toContain('user');
    expect(toIncidentRecord({ ...fields, action: 'monitor', user: 'alice', reason: 'card numbers' })).toMatchObject({ action: 'monitor', user: 'alice', reason: 'card numbers' });
  });

  it('cut every field a client or a server controls to its limit, marking the cut', () => {
    const long = 'x'.repeat(100_000);
    const record = boundRecord(incident({ host: long, path: long, user: long, reason: long, violations: Array.from({ length: 1000 }, () => long) }));
    expect(record.host).toHaveLength(FIELD_LIMITS.text);
    expect(record.user).toHaveLength(FIELD_LIMITS.text);
    expect(record.path).toHaveLength(FIELD_LIMITS.path);
    expect(record.reason).toHaveLength(FIELD_LIMITS.reason);
    expect(record.violations).toHaveLength(FIELD_LIMITS.violations);
    expect(record.violations.every((v) => v.length === FIELD_LIMITS.text && v.endsWith('…'))).toBe(true);
    expect(JSON.stringify(record).length).toBeLessThan(30_000);
    const short = incident();
    expect(boundRecord(short)).toEqual(short);
  });

  it('from another process are checked field by field', () => {
    expect(isIncidentRecord(incident())).toBe(true);
    expect(isIncidentRecord(incident({ user: undefined, service: undefined }))).toBe(true);
    for (const bad of [null, 'x', [], { ...incident(), time: 'yesterday' }, { ...incident(), direction: 'sideways' }, { ...incident(), action: 'pass' }, { ...incident(), violations: [1] }, { ...incident(), sizeBytes: Number.NaN }, { ...incident(), user: 5 }, { ...incident(), host: undefined }]) {
      expect(isIncidentRecord(bad)).toBe(false);
    }
  });
});
