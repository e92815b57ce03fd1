// Exact data match and document fingerprints (issue 13): records and documents loaded from files,
// matched in bodies of any format, the plain values never kept, every knob changing the outcome.
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { loadDataSets } from '../../../src/icap-server/detectors/data-sets.js';
import { buildDetectorSet, istagFor } from '../../../src/icap-server/detectors/detector-set.js';
import { EdmIndex, normalise, parseCsv } from '../../../src/icap-server/detectors/edm.js';
import { fingerprintsOf } from '../../../src/icap-server/detectors/fingerprint.js';
import { scanBytes } from '../../corpus/scan-corpus.js';
import { docx } from '../../corpus/writers/office-writers.js';
import { zip } from '../../corpus/writers/zip-writer.js';
import { tempDir } from '../../support/temp-dir.js';

let dir: string;
const CUSTOMERS = [
  'name,email,ssn,city,account',
  'Jane Roe,jane.roe@corp-mail.net,536-22-1234,London,88231907',
  'John Doe,john.doe@corp-mail.net,412-55-9876,London,77120455',
  'Amira Haddad,"amira.haddad@corp-mail.net",301-44-2210,Paris,66001234',
  'Jane Smith,jane.smith@corp-mail.net,287-61-0042,London,55009911',
].join('\r\n');

const MEMO = [
  'Project Heron: board memo on the proposed acquisition of Calder Instruments.',
  'The board is asked to approve an offer of 41 euros per share, a premium of 28 percent over the six-month average.',
  'Financing comes from the revolving facility and a bridge loan arranged with two banks; the combined leverage stays under three times earnings.',
  'Integration would close the Leeds plant within eighteen months and move its production to Eindhoven, with about 140 roles affected.',
  'Until the announcement, only the deal team and the named advisers may discuss the transaction; any leak must be reported to legal at once.',
].join('\n');

const unrelated = 'The canteen will serve a new vegetarian menu from Monday. Parking on level two is closed for painting until Friday. '.repeat(8);

/** The data set detectors alone: the SSN detector would report the SSNs of these bodies too. */
const ONLY_DATA_SETS = { usSsn: { enabled: false } };

async function scanWith(icapServer: Record<string, unknown>, body: string | Buffer, contentType = 'text/plain'): Promise<string[]> {
  const config = parseConfig({ icapServer: { detectors: ONLY_DATA_SETS, ...icapServer } }).icapServer;
  const set = buildDetectorSet(config.detectors, 'dlp', 'REQMOD', await loadDataSets(config));
  return scanBytes(set, config, typeof body === 'string' ? Buffer.from(body) : body, contentType);
}

beforeAll(() => {
  dir = tempDir('edm-');
  fs.writeFileSync(path.join(dir, 'customers.csv'), CUSTOMERS);
  fs.writeFileSync(path.join(dir, 'memo.txt'), MEMO);
  fs.writeFileSync(path.join(dir, 'memo.docx'), docx(MEMO.split('\n')));
});

describe('exact data match', () => {
  const edm = () => ({ edm: [{ name: 'customers', file: path.join(dir, 'customers.csv') }] });

  it('two fields of one record, one of them distinctive, are a violation naming the data set', async () => {
    expect(await scanWith(edm(), 'Call back Jane Roe about SSN 536 22 1234 please.')).toEqual(['edm:customers']);
    expect(await scanWith(edm(), 'Ticket from jane.roe@corp-mail.net, account 88231907, resolved.')).toEqual(['edm:customers']);
    // inside a zip of a Word document: the same text after extraction
    const archive = zip([{ name: 'notes.docx', data: docx(['Customer: John Doe', 'Account no. 77120455 was closed.']) }]);
    expect(await scanWith(edm(), archive, 'application/zip')).toEqual(['edm:customers']);
  });

  it('one field, or shared values only (a first name and a city), or another record’s fields are no match', async () => {
    expect(await scanWith(edm(), 'Jane Roe called, nothing else.')).toEqual([]);
    expect(await scanWith(edm(), 'Jane moved to London last year.')).toEqual([]);
    expect(await scanWith(edm(), 'Jane Roe and account 77120455.')).toEqual([]);
  });

  it('minFields and proximityChars change the outcome', async () => {
    const body = 'Jane Roe, 536-22-1234, jane.roe@corp-mail.net';
    expect(await scanWith({ edm: [{ name: 'customers', file: path.join(dir, 'customers.csv'), minFields: 3 }] }, 'Jane Roe 536-22-1234')).toEqual([]);
    expect(await scanWith({ edm: [{ name: 'customers', file: path.join(dir, 'customers.csv'), minFields: 3 }] }, body)).toEqual(['edm:customers']);
    const far = `Jane Roe ${'filler words here '.repeat(30)} 536-22-1234`;
    expect(await scanWith(edm(), far)).toEqual([]);
    expect(await scanWith({ edm: [{ name: 'customers', file: path.join(dir, 'customers.csv'), proximityChars: 2000 }] }, far)).toEqual(['edm:customers']);
  });

  it('counts each matched record once', async () => {
    const config = parseConfig({ icapServer: { detectors: ONLY_DATA_SETS, ...edm() } }).icapServer;
    const set = buildDetectorSet(config.detectors, 'dlp', 'REQMOD', await loadDataSets(config));
    const { BodyScan } = await import('../../../src/icap-server/decode/body-scan.js');
    const scan = new BodyScan(set, { contentType: 'text/plain' }, config);
    await scan.write(Buffer.from('Jane Roe 536-22-1234. Again Jane Roe 536-22-1234. John Doe 412-55-9876.'));
    expect(await scan.end()).toEqual([{ name: 'edm:customers', kind: 'data', count: 2 }]);
  });

  it('keeps no plain value: only keyed hashes and a Bloom filter', () => {
    const index = new EdmIndex({ name: 'customers', minFields: 2, proximityChars: 300 }, CUSTOMERS);
    const dump = util.inspect(index, { depth: 10, maxArrayLength: Infinity, maxStringLength: Infinity });
    for (const value of ['536-22-1234', '536221234', 'jane roe', 'Jane Roe', 'corp mail', '88231907']) expect(dump).not.toContain(value);
    expect(index.records).toBe(4);
  });

  it('normalises values and text alike, and reads RFC 4180 quoting', () => {
    expect(normalise('Jane.Roe@Corp-Mail.net')).toBe('jane roe corp mail net');
    expect(normalise('SSN 536-22-1234')).toBe('ssn 536221234');
    expect(parseCsv('a,b\r\n"x, ""y""",z\n')).toEqual([['a', 'b'], ['x, "y"', 'z']]);
  });

  it('a file that cannot be read is a config error naming the key', async () => {
    await expect(scanWith({ edm: [{ name: 'c', file: path.join(dir, 'missing.csv') }] }, 'x')).rejects.toThrow(/icapServer\.edm\[0\]\.file/);
  });
});

describe('document fingerprints', () => {
  const fp = (file = 'memo.txt', minPercent?: number) => ({ fingerprints: [{ name: 'heron-memo', file: path.join(dir, file), ...(minPercent ? { minPercent } : {}) }] });

  it('a body quoting enough of a registered document is a violation naming it, whatever the layout', async () => {
    const lines = MEMO.split('\n');
    const excerpt = `FYI, from the board pack:\n${lines.slice(1, 4).join('  ').toUpperCase()}\nThanks`;
    expect(await scanWith(fp(), excerpt)).toEqual(['fingerprint:heron-memo']);
    // registered from a Word file, matched in a zip of plain text
    expect(await scanWith(fp('memo.docx'), zip([{ name: 'a.txt', data: MEMO }]), 'application/zip')).toEqual(['fingerprint:heron-memo']);
  });

  it('unrelated text, or too small a share, is no match; minPercent decides', async () => {
    expect(await scanWith(fp(), unrelated)).toEqual([]);
    const oneLine = `${unrelated} ${MEMO.split('\n')[2]}`;
    expect(await scanWith(fp(), oneLine)).toEqual([]);
    expect(await scanWith(fp('memo.txt', 10), oneLine)).toEqual(['fingerprint:heron-memo']);
  });

  it('winnowing: the same text gives the same fingerprints, shared passages share some', () => {
    const a = fingerprintsOf(MEMO);
    expect(fingerprintsOf(MEMO.replace(/\s+/g, ' ').toUpperCase())).toEqual(a);
    const part = fingerprintsOf(MEMO.split('\n')[3] as string);
    expect([...part].filter((f) => a.has(f)).length).toBeGreaterThan(part.size / 2);
  });
});

describe('ISTag', () => {
  it('changes when a data set file changes, and only for dlp', async () => {
    const file = path.join(dir, 'istag.csv');
    fs.writeFileSync(file, CUSTOMERS);
    const config = parseConfig({ icapServer: { edm: [{ name: 'customers', file }] } }).icapServer;
    const before = istagFor(config, 'dlp', await loadDataSets(config));
    fs.appendFileSync(file, '\r\nNew Person,new.person@corp-mail.net,222-33-4444,Rome,12345678');
    const after = istagFor(config, 'dlp', await loadDataSets(config));
    expect(after).not.toBe(before);
    expect(istagFor(config, 'av', await loadDataSets(config))).toBe(istagFor(config, 'av'));
  });
});
