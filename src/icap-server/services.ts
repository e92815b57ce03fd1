// The services the built-in server offers (`dlp`, `av`), each with its detectors per method and
// its ISTag, and their OPTIONS answer (RFC 3507 §4.10.2).
import { createHash } from 'node:crypto';
import { encodeOptionsResponse } from '../icap/codec/index.js';
import { buildDetectorSet, istagFor, type DetectorSet, type IcapServerConfig, type LoadedDataSets, type ScanMethod, type ServiceName } from './detectors/detector-set.js';

export interface ServiceRuntime {
  name: ServiceName;
  /** quoted, as sent in every response (RFC 3507 §4.7) */
  istag: string;
  detectors: Record<ScanMethod, DetectorSet>;
  options: Buffer;
}

const DESCRIPTIONS: Record<ServiceName, string> = {
  dlp: 'dlp-proxy DLP (cards, IBAN, SSN, NINO, VAT, e-mail bulk, keys, tokens, custom rules, EDM, fingerprints)',
  av: 'dlp-proxy AV (EICAR test file, blocked file types)',
};

/**
 * `dataSets`: the EDM and fingerprint detectors loaded from their files (detectors/data-sets.ts);
 * `avSignatures`: clamd's signature version when icapServer.av.clamd answers (undefined before).
 */
export function buildServices(config: IcapServerConfig, dataSets?: LoadedDataSets, avSignatures?: string): Map<string, ServiceRuntime> {
  const services = new Map<string, ServiceRuntime>();
  for (const name of ['dlp', 'av'] as const) {
    const istag = name === 'av' && avSignatures !== undefined ? withSignatures(istagFor(config, name, dataSets), avSignatures) : istagFor(config, name, dataSets);
    services.set(name, {
      name,
      istag,
      detectors: { REQMOD: buildDetectorSet(config.detectors, name, 'REQMOD', dataSets), RESPMOD: buildDetectorSet(config.detectors, name, 'RESPMOD', dataSets) },
      options: encodeOptionsResponse({
        methods: ['REQMOD', 'RESPMOD'],
        istag,
        service: DESCRIPTIONS[name],
        preview: config.previewBytes,
        allow204: true,
        optionsTtlSeconds: Math.floor(config.optionsTtlMs / 1000),
        maxConnections: config.maxConnections,
        transferPreview: ['*'],
      }),
    });
  }
  return services;
}

/**
 * The av ISTag when clamd answers: the same 32-character form, over the detector tag and clamd's
 * signature version, so a freshclam update retires the av verdicts cached before it (RFC 3507 §4.7).
 */
function withSignatures(istag: string, signatures: string): string {
  return `"dp-${createHash('sha256').update(`${istag}/clamd/${signatures}`).digest('hex').slice(0, 24)}"`;
}

/** The service named by the first path segment of an ICAP URI ('' for none); undefined when malformed. */
export function serviceNameOf(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    if (url.protocol !== 'icap:' && url.protocol !== 'icaps:') return undefined;
    return decodeURIComponent(url.pathname.split('/').filter(Boolean)[0] ?? '');
  } catch {
    return undefined;
  }
}
