// The base64 spotter's cheap paths (runs found by a skipping window, a run judged from its first
// bytes decoded in place, hex-only runs skipped), attacked where a shortcut could lose a file.
import { describe, expect, it } from 'vitest';
import { chunked, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const dlp = (body: string | Buffer[], contentType = 'text/plain', icapServer: Record<string, unknown> = keyword) => scan(body, { content: { contentType }, icapServer });
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('base64 spotter', () => {
  it('finds an encoded secret cut by a chunk boundary at every offset of the run', async () => {
    const run = b64('quarterly memo, TOP-SECRET, do not forward to anyone outside');
    const body = `notes: ${run} end`;
    for (let cut = 5; cut < body.length - 3; cut += 1) {
      expect(await dlp([Buffer.from(body.slice(0, cut)), Buffer.from(body.slice(cut))]), `cut at ${cut}`).toEqual(['keyword:top-secret']);
    }
  });

  it('finds runs at the very start and the very end of the body, and one run after another', async () => {
    const run = b64('TOP-SECRET plans for the merger');
    expect(await dlp(run)).toEqual(['keyword:top-secret']);
    expect(await dlp(`x ${run}`)).toEqual(['keyword:top-secret']);
    const many = Array.from({ length: 40 }, (_, i) => b64(`ordinary line number ${i} of the export`)).join('\n');
    expect(await dlp(`${many}\n${run}`)).toEqual(['keyword:top-secret']);
  });

  it('reads text whose first 48 bytes end inside a multi-byte character', async () => {
    // Byte 47 starts "é" (two bytes): the decided head ends in half a character.
    for (const pad of [45, 46, 47]) {
      const text = `${'a'.repeat(pad)}éé résumé: TOP-SECRET pläne`;
      expect(await dlp(`data ${b64(text)} .`), `pad ${pad}`).toEqual(['keyword:top-secret']);
    }
  });

  it('opens UTF-16 text and a zip whose base64 is cut into 76-character lines', async () => {
    const utf16 = Buffer.from('\ufeffmemo: TOP-SECRET do not share', 'utf16le').toString('base64');
    const noBom = Buffer.from('memo: TOP-SECRET do not share with anyone', 'utf16le').toString('base64');
    expect(await dlp(`a ${utf16} b`)).toEqual(['keyword:top-secret']);
    expect(await dlp(`a ${noBom} b`)).toEqual(['keyword:top-secret']);
    const archive = zip([{ name: 'memo.txt', data: 'TOP-SECRET' }]).toString('base64').replace(/.{76}/g, '$&\n');
    expect(await dlp(`attachment:\n${archive}\n`)).toEqual(['keyword:top-secret']);
  });

  it('leaves hex hashes unopened even when their base64 reading is printable text', async () => {
    // "a000" reads as "kM4" in base64: every such quad is printable, so the old judge opened the run.
    const hashes = Array.from({ length: 5 }, (_, k) => Array.from({ length: 16 }, (_, i) => `a0${k}${(i % 10).toString()}`).join(''));
    expect(Buffer.from(hashes[0] as string, 'base64').toString('latin1')).toMatch(/^[ -~]+$/);
    const limited = { ...keyword, extract: { maxEntries: 1 } };
    expect(await dlp(JSON.stringify({ hashes }), 'application/json', limited)).toEqual([]);
    // Mixed case is not a hash: such a run is judged as base64 (and, being text here, opened).
    const mixed = hashes.map((h) => `${h.slice(0, 10)}A${h.slice(11)}`);
    expect(await dlp(JSON.stringify({ mixed }), 'application/json', limited)).toEqual(['decode-limit:entries']);
  });

  it('a decoder handing over one huge text: looked at in pieces, a run across two pieces is still found', async () => {
    const secret = b64('quarterly memo, TOP-SECRET, do not forward to anyone outside');
    const piece = 256 * 1024;
    for (const at of [piece - 30, piece - 1, piece, 2 * piece - 50]) {
      // the run starts at `at`, after a blank
      const body = `${'lorem ipsum '.repeat(Math.ceil(at / 12)).slice(0, at - 1)} ${secret} tail ${'x '.repeat(piece)}`;
      expect(await dlp([Buffer.from(body)]), `run at ${at}`).toEqual(['keyword:top-secret']);
    }
  });

  it('skips a huge line of random base64 in linear time and still opens the text after it', async () => {
    const noise = b64(Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7919 + 13) % 251)));
    const body = Buffer.from(`${noise} ${b64('TOP-SECRET after the noise')}`);
    const started = performance.now();
    expect(await dlp(chunked(body, 65536))).toEqual(['keyword:top-secret']);
    expect(performance.now() - started).toBeLessThan(15_000);
    // A run of one repeated character (NUL bytes) all the way to the end: nothing to open, nothing found.
    expect(await dlp(chunked(Buffer.from('A'.repeat(2 * 1024 * 1024)), 65536))).toEqual([]);
  });
});
