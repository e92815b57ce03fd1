// The OOXML run reader (extract/ooxml-runs.as.ts, WebAssembly over the part's UTF-8 bytes)
// against its specification, RUN_PATTERN searched left to right over the decoded text: the same
// text and the same end of the last match, on generated fragments built from the tags it reads,
// near misses of them, every character JavaScript's \s matches (in UTF-8: one to three bytes)
// and multi-byte text. Then a part cut into chunks anywhere reads as the whole part does.
import { describe, expect, it } from 'vitest';
import { ooxmlText, readRuns, RUN_PATTERN } from '../../../src/icap-server/extract/ooxml-text.js';

function oracle(xml: string): { text: string; end: number } {
  const re = new RegExp(RUN_PATTERN);
  let text = '';
  let end = 0;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    end = re.lastIndex;
    if (m[1] !== undefined) text += m[1];
    else if (m[2] !== undefined) text += m[2] === 'tab' ? '\t' : '\n';
    else if (m[3] !== undefined) text += m[3] === 'tc' ? '\t' : '\n';
    else text += '\n';
  }
  return { text, end: Buffer.byteLength(xml.slice(0, end)) };
}

/** The text ooxmlText reads from `xml` handed over in pieces cut at `cuts` (ascending). */
async function readCut(xml: Buffer, cuts: readonly number[]): Promise<string> {
  let text = '';
  const sink = ooxmlText({ write: async (t) => void (text += t), end: async () => undefined });
  let from = 0;
  for (const cut of [...cuts, xml.length]) {
    await sink.write(xml.subarray(from, cut));
    from = cut;
  }
  await sink.end();
  return text;
}

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

const SPACES = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u200b', '\u0085', '\u2030'];
const PIECES = [
  '<w:t>', '<a:t>', '<w:t xml:space="preserve">', '</w:t>', '</a:t>', '<w:delText>', '</w:delText>', '<w:instrText>', '</w:instrText>', '</a:delText>',
  '</w:p>', '</a:p>', '<w:tab/>', '<w:br/>', '<w:cr/>', '<a:br>', '<w:tabs>', '<w:brx/>', '<w:br_x/>', '<w:br-x/>', '<w:bré/>', '</w:tc>', '</w:tr>', '</a:tc>', '</w:tx>',
  '<w:p>', '<w:r>', '</w:r>', '</w:r><w:r>', '</w:r><w:r><w:t>', '</w:r><w:t', '<w:r><w:t', '</w:r><w:r', '</w:r ', '<w:rPr><w:b/></w:rPr>', '<x:t>', '<w:', '</w:', '</w:t', '<w:te>', '<w:d>', '<w:delTex>', '<w:instr>',
  'abc', '4111 1111', '&amp;', '&#49;', 'caf\u00e9', '\u65e5\u672c', '\ud83d\ude00', '<', '>', '/', 'w:', 't', ':',
  ...SPACES.map((s) => `<w:t${s}x="1">`),
  ...SPACES,
];

describe('OOXML run reader (WebAssembly)', () => {
  it('reads what RUN_PATTERN matches, and ends where its last match ends, on 20,000 generated fragments', () => {
    const rand = random(2026);
    for (let round = 0; round < 20_000; round++) {
      let xml = '';
      for (let i = 0, n = Math.floor(rand() * 16); i < n; i++) xml += PIECES[Math.floor(rand() * PIECES.length)];
      expect(readRuns(Buffer.from(xml)), JSON.stringify(xml)).toEqual(oracle(xml));
    }
    expect(readRuns(Buffer.alloc(0))).toEqual({ text: '', end: 0 });
  });

  it('long runs and long stretches of markup, across its sixteen-byte steps', () => {
    for (let pad = 0; pad < 40; pad++) {
      const xml = `${'<w:rPr/>'.repeat(pad)}<w:p><w:r><w:t xml:space="preserve">${'x'.repeat(pad)}card 4111 1111 1111 1111</w:t></w:r>${' '.repeat(pad)}<w:tab/></w:p>`;
      expect(readRuns(Buffer.from(xml))).toEqual(oracle(xml));
    }
  });

  it('every tag that can start a match, and its near misses, at each offset of a sixteen-byte step and cut by the end of the input', () => {
    // The kernel looks only at a `<` whose bytes 1, 3 and 4 can start a match: each alternative of
    // RUN_PATTERN, and tags that pass that test but match nothing, after markup it skips.
    // Word's `<w:t xml:space="preserve">` and `</w:t>` are compared whole: with them, tags that differ from them by a byte.
    const tags = ['<w:t xml:space="preserve">x</w:t>', '<w:t xml:space="preserve" >x</w:t>', '<w:t xml:space="preserv">x</w:t>', '<w:t xml:space="preserve"/>x</w:t>', '<w:t\txml:space="preserve">x</w:t>', '<w:t>x</w:t >', '<w:t>x</a:t>', '<w:t>x</w:tt>', '<w:t>x</W:t>', '<w:t>x</w:t>', '<a:t y="1">x</a:t>', '<w:delText>x</w:delText>', '<w:instrText>x</w:instrText>', '<w:tab/>', '<w:br/>', '<a:cr/>', '</w:p>', '</a:p>', '</w:tc>', '</w:tr>', '<w:tbl>', '<w:bx/>', '<w:crx/>', '<w:b/>', '<w:c/>', '</w:pPr>', '</w:tx>', '<w:d/>', '<w:i/>', '</w:r>'];
    for (const tag of tags) {
      for (let pad = 0; pad < 40; pad++) {
        const xml = `${'<w:r>x'.repeat(pad >> 2)}${' '.repeat(pad & 3)}${tag}<w:r>${tag}`;
        expect(readRuns(Buffer.from(xml)), xml).toEqual(oracle(xml));
        for (let cut = xml.length - tag.length - 6; cut <= xml.length; cut++) expect(readRuns(Buffer.from(xml.slice(0, cut))), xml.slice(0, cut)).toEqual(oracle(xml.slice(0, cut)));
      }
    }
  });

  it('a part cut into chunks anywhere reads as the whole part', async () => {
    const xml = Buffer.from(`<w:document><w:body>${Array.from({ length: 200 }, (_, i) => `<w:p><w:r><w:t>caf\u00e9 ${i} &amp; \u65e5\u672c</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> part ${i}</w:t></w:r></w:p>`).join('')}</w:body></w:document>`);
    const read = (cuts: number[]) => readCut(xml, cuts);
    const whole = await read([]);
    expect(whole).toContain('caf\u00e9 7 & \u65e5\u672c\t part 7\n');
    const rand = random(9);
    for (let round = 0; round < 60; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * xml.length)).sort((a, b) => a - b);
      expect(await read(cuts), cuts.join(',')).toBe(whole);
    }
  });

  it('a run longer than what is kept between chunks is read as it comes: a card a megabyte into one run, an entity cut by a chunk', async () => {
    const rand = random(77);
    const words = () => Array.from({ length: 200_000 }, () => 'lorem ipsum dolor sit amet consectetur'.split(' ')[Math.floor(rand() * 6)]).join(' ');
    // the card's first digit as a character reference, so a cut can fall inside it
    const run = `${words()} card &#52;111 1111 1111 1111 caf\u00e9 ${words()}`;
    const xml = Buffer.from(`<w:document><w:body><w:p><w:r><w:t xml:space="preserve">${run}</w:t></w:r></w:p><w:p><w:r><w:t>after</w:t></w:r></w:p></w:body></w:document>`);
    expect(xml.length).toBeGreaterThan(2 * 1024 * 1024);
    const expected = `${run.replace('&#52;', '4')}\nafter\n`;
    const at = xml.indexOf('&#52;');
    for (const chunk of [65536, 65521, 1 << 20]) {
      for (const shift of [0, 1, 2, 3, 4, 5, 7]) {
        // the chunks cut the reference (or the é) at every place around it
        const cuts: number[] = [];
        for (let c = chunk; c < xml.length; c += chunk) cuts.push(c);
        cuts.push(at + shift);
        cuts.sort((a, b) => a - b);
        const text = await readCut(xml, cuts);
        expect(text === expected, `chunks of ${chunk}, a cut at the reference + ${shift}`).toBe(true);
      }
    }
  });

  it('a long run that never closes is still read to the end of the part; a long unterminated tag is not text', async () => {
    const long = 'x '.repeat(700_000);
    const read = async (xml: string) => {
      let text = '';
      const sink = ooxmlText({ write: async (t) => void (text += t), end: async () => undefined });
      const bytes = Buffer.from(xml);
      for (let at = 0; at < bytes.length; at += 65536) await sink.write(bytes.subarray(at, at + 65536));
      await sink.end();
      return text;
    };
    expect(await read(`<w:p><w:t>${long}4111 1111 1111 1111`)).toContain('4111 1111 1111 1111');
    expect(await read(`<w:p><w:r attr="${long}4111 1111 1111 1111`)).not.toContain('4111');
  });
});
