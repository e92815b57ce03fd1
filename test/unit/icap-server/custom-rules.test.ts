import { describe, expect, it } from 'vitest';
import { scan } from './helpers.js';

describe('custom keywords and regexes', () => {
  const icapServer = {
    detectors: {
      keywords: [
        { name: 'classified', words: ['TOP-SECRET', 'Project Falcon'] },
        { name: 'exact', words: ['Confidential'], caseSensitive: true, minCount: 2 },
      ],
      regexes: [{ name: 'order-id', pattern: 'ORD-[0-9]{6}\\b' }],
    },
  };

  it('match keywords case-insensitively unless asked, with a minimum count', async () => {
    expect(await scan('this is top-secret', { icapServer })).toEqual(['keyword:classified']);
    expect(await scan('about project falcon.', { icapServer })).toEqual(['keyword:classified']);
    expect(await scan('Confidential and confidential', { icapServer })).toEqual([]);
    expect(await scan('Confidential, Confidential', { icapServer })).toEqual(['keyword:exact']);
    expect(await scan('a secret top', { icapServer })).toEqual([]);
  });

  it('a keyword is found in any case, also spelt with the two letters that fold to ASCII (ſ, K), and only as written when case-sensitive', async () => {
    expect(await scan('memo: ToP-sEcReT, do not forward', { icapServer })).toEqual(['keyword:classified']);
    expect(await scan('memo: TOP-\u017fECRET, do not forward', { icapServer })).toEqual(['keyword:classified']);
    const kelvin = { detectors: { keywords: [{ name: 'codename', words: ['Kestrel'] }] } };
    expect(await scan('the \u212aestrel plan', { icapServer: kelvin })).toEqual(['keyword:codename']);
    expect(await scan('the kESTREL plan', { icapServer: kelvin })).toEqual(['keyword:codename']);
    expect(await scan('CONFIDENTIAL, CONFIDENTIAL', { icapServer })).toEqual([]);
  });

  it('keyword lists the prefilter cannot hold still match: short words, non-ASCII words, more words than it takes, long words', async () => {
    const many = Array.from({ length: 80 }, (_, i) => `codeword${i}x`);
    const rules = {
      detectors: {
        keywords: [
          { name: 'short', words: ['HR'], caseSensitive: true },
          { name: 'accents', words: ['café noir'] },
          { name: 'many', words: many },
          { name: 'long', words: [`${'very-long-project-name-'.repeat(3)}omega`] },
        ],
      },
    };
    expect(await scan('ask HR today', { icapServer: rules })).toEqual(['keyword:short']);
    expect(await scan('the CAFÉ NOIR file', { icapServer: rules })).toEqual(['keyword:accents']);
    expect(await scan('see CODEWORD79X here', { icapServer: rules })).toEqual(['keyword:many']);
    expect(await scan(`about ${'very-long-project-name-'.repeat(3)}omega`, { icapServer: rules })).toEqual(['keyword:long']);
    // the prefix alone is not the word
    expect(await scan(`about ${'very-long-project-name-'.repeat(3)}alpha`, { icapServer: rules })).toEqual([]);
  });

  it('match regexes under their own name', async () => {
    expect(await scan('ref ORD-123456 done', { icapServer })).toEqual(['regex:order-id']);
    expect(await scan('ref ORD-12345 done', { icapServer })).toEqual([]);
  });

  it('rejects an invalid regex at config load, naming its path', async () => {
    await expect(scan('x', { icapServer: { detectors: { regexes: [{ name: 'bad', pattern: '([a-z' }] } } })).rejects.toThrow(/icapServer\.detectors\.regexes\[0\]\.pattern/);
  });
});
