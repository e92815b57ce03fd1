// Test helpers: scan a body with the detectors a service runs under a given (partial) config.
import { parseConfig } from '../../../src/config/index.js';
import { BodyScan, type ContentDescription } from '../../../src/icap-server/decode/body-scan.js';
import { buildDetectorSet, type ScanMethod, type ServiceName } from '../../../src/icap-server/detectors/detector-set.js';

export function serverConfig(icapServer: Record<string, unknown> = {}) {
  return parseConfig({ icapServer }).icapServer;
}

export async function scan(
  body: string | Buffer | Buffer[],
  options: { content?: ContentDescription; service?: ServiceName; method?: ScanMethod; icapServer?: Record<string, unknown> } = {},
): Promise<string[]> {
  const config = serverConfig(options.icapServer);
  const set = buildDetectorSet(config.detectors, options.service ?? 'dlp', options.method ?? 'REQMOD');
  const scanner = new BodyScan(set, options.content ?? { contentType: 'text/plain' }, config, { service: options.service ?? 'dlp', method: options.method ?? 'REQMOD' });
  const chunks = Array.isArray(body) ? body : [typeof body === 'string' ? Buffer.from(body) : body];
  for (const chunk of chunks) await scanner.write(chunk);
  return (await scanner.end()).map((v) => v.name);
}
