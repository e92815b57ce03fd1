import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { ERROR_TABLE, type ErrorCode } from '../../../src/core/errors.js';
import { failClass, failMode } from '../../../src/enforce/index.js';

const service = (extra: object) =>
  configSchema.parse({ services: { dlp: { urls: ['icap://127.0.0.1:1344/dlp'], ...extra } }, policy: [] }).services.dlp!;

describe('failClass', () => {
  it.each<[ErrorCode, string | undefined]>([
    ['ICAP_CONNECT_FAILED', 'connect'],
    ['ICAP_TLS_CLIENT_CERT_REJECTED', 'connect'],
    ['ICAP_READ_TIMEOUT', 'timeout'],
    ['ICAP_PREVIEW_TIMEOUT', 'timeout'],
    ['ICAP_SERVER_ERROR', 'serverError'],
    ['ICAP_PROTOCOL_ERROR', 'protocolError'],
    ['ICAP_READ_FAILED', 'protocolError'],
    ['ICAP_OVERLOADED', 'overload'],
    ['ICAP_QUEUE_TIMEOUT', 'overload'],
    ['SCAN_UNSCANNABLE', 'unscannable'],
    ['SPOOL_FAILED', undefined],
    ['UPSTREAM_CONNECT_FAILED', undefined],
  ])('%s → %s', (code, cls) => expect(failClass(code)).toBe(cls));

  it('every ICAP_* code has a class (a new code cannot slip past the fail policy)', () => {
    const icapCodes = (Object.keys(ERROR_TABLE) as ErrorCode[]).filter((c) => c.startsWith('ICAP_'));
    expect(icapCodes.filter((c) => failClass(c) === undefined)).toEqual([]);
  });
});

describe('failMode', () => {
  it('defaults to closed', () => {
    expect(failMode(service({}), 'ICAP_CONNECT_FAILED')).toBe('closed');
  });
  it('failMode applies to every class', () => {
    expect(failMode(service({ failMode: 'open' }), 'ICAP_READ_TIMEOUT')).toBe('open');
    expect(failMode(service({ failMode: 'open' }), 'SCAN_UNSCANNABLE')).toBe('open');
  });
  it('failModes overrides per class, both ways', () => {
    const s = service({ failMode: 'open', failModes: { unscannable: 'closed', overload: 'closed' } });
    expect(failMode(s, 'SCAN_UNSCANNABLE')).toBe('closed');
    expect(failMode(s, 'ICAP_QUEUE_TIMEOUT')).toBe('closed');
    expect(failMode(s, 'ICAP_CONNECT_FAILED')).toBe('open');
    expect(failMode(service({ failModes: { connect: 'open' } }), 'ICAP_CONNECT_TIMEOUT')).toBe('open');
  });
  it('a local failure always fails closed, even on an open service', () => {
    expect(failMode(service({ failMode: 'open' }), 'SPOOL_FAILED')).toBe('closed');
    expect(failMode(service({ failMode: 'open' }), 'INTERNAL')).toBe('closed');
  });
});
