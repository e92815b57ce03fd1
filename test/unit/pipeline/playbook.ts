// A playbook for the exchange state machine (mitmproxy's tutils.Playbook): events in, commands
// out, no sockets. `play(machine, event)` returns the commands; helpers build request and
// response facts, held bodies and the exchange.
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { SpooledBody } from '../../../src/body/index.js';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import type { Exchange } from '../../../src/core/exchange.js';
import { Delivery } from '../../../src/pipeline/delivery.js';
import { ExchangeMachine } from '../../../src/pipeline/exchange-machine.js';
import type { RequestFacts, ResponseFacts } from '../../../src/pipeline/exchange-protocol.js';
import { compilePolicy } from '../../../src/policy/index.js';

export function machine(policy: NonNullable<ConfigInput['policy']>, options: { maxScanBytes?: number; oversizeAction?: 'block' | 'pass'; host?: string } = {}) {
  const config = configSchema.parse({
    services: { dlp: { urls: ['icap://127.0.0.1:1344/dlp'] }, av: { urls: ['icap://127.0.0.1:1344/av'] } },
    policy,
  });
  const exchange: Exchange = {
    id: 'incident-1',
    startTime: new Date(0),
    startedAt: 0,
    client: { ip: '10.0.0.7', port: 50000 },
    method: 'GET',
    scheme: 'http',
    host: options.host ?? 'files.example.com',
    port: 80,
    path: '/f',
    intercepted: false,
    requestBytes: 0,
    responseBytes: 0,
    decisions: [],
    verdicts: [],
  };
  const m = new ExchangeMachine(exchange, {
    policy: compilePolicy(config.policy, config.services, config.proxy.tunnel),
    viaName: 'dlp-proxy',
    maxScanBytes: options.maxScanBytes ?? 1000,
    oversizeAction: options.oversizeAction ?? 'block',
    delivery: new Delivery(config.policy, config.scan).forRule,
  });
  return { m, exchange };
}

/** Raw header list from pairs; IncomingHttpHeaders from the same. */
function heads(pairs: Array<[string, string]>): { headers: IncomingHttpHeaders; rawHeaders: string[] } {
  const headers: IncomingHttpHeaders = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of pairs) {
    headers[name.toLowerCase()] = value;
    rawHeaders.push(name, value);
  }
  return { headers, rawHeaders };
}

export function request(method: string, pairs: Array<[string, string]> = [], extra: Partial<RequestFacts> = {}): RequestFacts {
  return { method, target: '/f', httpVersion: '1.1', ...heads(pairs), websocket: false, ...extra };
}

export function response(status: number, pairs: Array<[string, string]> = []): ResponseFacts {
  return { status, reason: 'x', httpVersion: '1.1', ...heads(pairs) };
}

export function held(sizeBytes: number): SpooledBody {
  return { sha256: '0'.repeat(64), sizeBytes, inMemory: true, replay: () => Readable.from([]), dispose: async () => undefined };
}

/** Header value of a flat raw list, case-insensitive. */
export function header(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}
