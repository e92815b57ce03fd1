// The access line is serialised by hand (once per exchange): it must read back as the JSON line
// pino itself would have written for the same fields, whatever a client put in the path or host.
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../../src/core/exchange.js';
import { ProxyError } from '../../../src/core/errors.js';
import { events } from '../../../src/core/events.js';
import { subscribeAccessLog } from '../../../src/log/access-log.js';

function capture(level: pino.Level = 'info') {
  const sink = new PassThrough();
  const lines: string[] = [];
  sink.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const logger = pino({ level, base: { pid: 4242 }, timestamp: pino.stdTimeFunctions.isoTime }, sink).child({ worker: 3 });
  return { logger, lines };
}

function exchange(overrides: Partial<Exchange> = {}): Exchange {
  return {
    id: 'abc123',
    startTime: new Date(),
    startedAt: 0,
    client: { ip: '10.0.0.7', port: 50000 },
    method: 'POST',
    scheme: 'https',
    host: 'files.example.com',
    port: 443,
    path: '/up',
    intercepted: true,
    requestBytes: 12,
    responseBytes: 34,
    decisions: [
      { action: 'scan', rule: 'uploads', explain: '', service: 'dlp' },
      { action: 'pass', rule: 'default', explain: '' },
    ],
    verdicts: [],
    ...overrides,
  };
}

describe('the access line', () => {
  it('reads back as pino would write it: level, time, bindings, fields, msg; undefined fields left out', async () => {
    const { logger, lines } = capture();
    const stop = subscribeAccessLog(logger);
    try {
      events.exchangeEnd.publish({ exchange: exchange({ status: 200, verdicts: [{ action: 'pass', violations: [], source: 'cache' }] }), durationMs: 12.345 });
      await new Promise((r) => setImmediate(r));
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(line).toEqual({
        level: 30,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        pid: 4242,
        worker: 3,
        log: 'access',
        id: 'abc123',
        client: '10.0.0.7',
        method: 'POST',
        scheme: 'https',
        host: 'files.example.com',
        port: 443,
        path: '/up',
        status: 200,
        bytesIn: 12,
        bytesOut: 34,
        durationMs: 12.3,
        decision: 'upload=scan:dlp download=pass',
        verdict: 'pass/cache',
        msg: 'exchange',
      });
    } finally {
      stop();
    }
  });

  it('escapes what a client controls (quotes, backslashes, control characters, non-ASCII) and keeps user, delivery and error', async () => {
    const { logger, lines } = capture();
    const stop = subscribeAccessLog(logger);
    try {
      const path = '/a"b\\c\u0000\u001b[31m\n{"level":60}';
      events.exchangeEnd.publish({
        exchange: exchange({ path, client: { ip: '::1', port: 1, user: 'zoë "admin"' }, delivery: 'trickle', error: new ProxyError('UPSTREAM_READ_FAILED', 'cut') }),
        durationMs: 1,
      });
      await new Promise((r) => setImmediate(r));
      expect(lines).toHaveLength(1); // one line: the newline in the path did not split it
      const line = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 30, path, user: 'zoë "admin"', delivery: 'trickle', error: 'UPSTREAM_READ_FAILED' });
      expect(line).not.toHaveProperty('status');
      expect(line).not.toHaveProperty('verdict');
    } finally {
      stop();
    }
  });

  it('is not written below the info level', async () => {
    const { logger, lines } = capture('warn');
    const stop = subscribeAccessLog(logger);
    try {
      events.exchangeEnd.publish({ exchange: exchange(), durationMs: 1 });
      await new Promise((r) => setImmediate(r));
      expect(lines).toEqual([]);
    } finally {
      stop();
    }
  });
});
