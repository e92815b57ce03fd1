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

  it('match regexes under their own name', async () => {
    expect(await scan('ref ORD-123456 done', { icapServer })).toEqual(['regex:order-id']);
    expect(await scan('ref ORD-12345 done', { icapServer })).toEqual([]);
  });

  it('rejects an invalid regex at config load, naming its path', async () => {
    await expect(scan('x', { icapServer: { detectors: { regexes: [{ name: 'bad', pattern: '([a-z' }] } } })).rejects.toThrow(/icapServer\.detectors\.regexes\[0\]\.pattern/);
  });
});
