// The data sets the dlp service matches besides patterns: exact data match records
// (icapServer.edm) and registered confidential documents (icapServer.fingerprints), read from
// their files at start and again on reload (SIGHUP). A document is registered from its text as
// the service itself extracts it (Word, PDF, a zip of them…), so a copy in another format still
// matches. The digest of every file and setting goes into the ISTag: a changed data set retires
// the verdicts cached under the old tag (RFC 3507 §4.7).
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { ProxyError } from '../../core/errors.js';
import { BodyScan } from '../decode/body-scan.js';
import type { IcapServerConfig, LoadedDataSets } from './detector-set.js';
import { EdmIndex, edmDetector } from './edm.js';
import { fingerprintDetector, fingerprintsOf, type RegisteredDocument } from './fingerprint.js';
import type { FindingSink } from './findings.js';
import type { StreamDetector } from './text-detector.js';

/** `digest`: hex SHA-256 over every file and setting; '' when there are none. */
export type DataSets = LoadedDataSets;

export const NO_DATA_SETS: DataSets = { detectors: [], digest: '' };

/** Text kept from one registered document: enough for any contract or memo, bounded. */
const MAX_DOCUMENT_CHARS = 16 * 1024 * 1024;

async function readFile(path: string, key: string): Promise<Buffer> {
  try {
    return await fsp.readFile(path);
  } catch (err) {
    throw new ProxyError('CONFIG_INVALID', `${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The text the service extracts from `bytes`, whatever their format. */
export async function extractText(bytes: Buffer, config: IcapServerConfig): Promise<string> {
  const parts: string[] = [];
  let size = 0;
  const collector: StreamDetector = {
    type: 'stream',
    name: 'collect',
    open: (_findings: FindingSink) => ({
      write(text) {
        if (size >= MAX_DOCUMENT_CHARS) return;
        parts.push(text);
        size += text.length;
      },
      end: () => parts.push('\n'),
    }),
  };
  const scan = new BodyScan({ text: [collector], head: [], notInPackages: new Set() }, { contentType: 'application/octet-stream' }, config);
  for (let at = 0; at < bytes.length; at += 65536) await scan.write(bytes.subarray(at, at + 65536));
  await scan.end();
  return parts.join('');
}

export async function loadDataSets(config: IcapServerConfig): Promise<DataSets> {
  if (config.edm.length === 0 && config.fingerprints.length === 0) return NO_DATA_SETS;
  const digest = createHash('sha256');
  const detectors: StreamDetector[] = [];
  for (const [i, set] of config.edm.entries()) {
    const bytes = await readFile(set.file, `icapServer.edm[${i}].file`);
    digest.update(JSON.stringify(['edm', set.name, set.minFields, set.proximityChars])).update(bytes);
    const index = new EdmIndex(set, bytes.toString('utf8'));
    if (index.records === 0) throw new ProxyError('CONFIG_INVALID', `icapServer.edm[${i}].file: ${set.file} holds no records under its header row`);
    detectors.push(edmDetector(index));
  }
  const documents: RegisteredDocument[] = [];
  for (const [i, doc] of config.fingerprints.entries()) {
    const bytes = await readFile(doc.file, `icapServer.fingerprints[${i}].file`);
    digest.update(JSON.stringify(['fingerprint', doc.name, doc.minPercent])).update(bytes);
    const fingerprints = fingerprintsOf(await extractText(bytes, config));
    if (fingerprints.size === 0) throw new ProxyError('CONFIG_INVALID', `icapServer.fingerprints[${i}].file: no text could be read from ${doc.file}`);
    documents.push({ name: doc.name, minPercent: doc.minPercent, fingerprints });
  }
  if (documents.length > 0) detectors.push(fingerprintDetector(documents));
  return { detectors, digest: digest.digest('hex') };
}
