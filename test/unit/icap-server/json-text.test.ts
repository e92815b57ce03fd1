// The JSON text view's lexer (string ends and escapes found with indexOf, the next backslash
// remembered, short gaps between strings rewritten in place), attacked with escapes cut by chunk
// boundaries, backslashes far apart, and structural characters inside and outside strings.
import { describe, expect, it } from 'vitest';
import { jsonText } from '../../../src/icap-server/decode/text-decoders.js';

async function view(json: string, chunk = json.length): Promise<string> {
  let text = '';
  const sink = jsonText({ write: (t) => void (text += t), end: () => undefined });
  const bytes = Buffer.from(json);
  for (let at = 0; at < bytes.length; at += chunk) await sink.write(bytes.subarray(at, at + chunk));
  await sink.end();
  return text;
}

describe('JSON text view', () => {
  it('unescapes every escape form, and gives the same text at every chunk size', async () => {
    const json = JSON.stringify({ card: '4111 1111\t1111 "1111"', path: 'C:\\dir\\file', u: '\u00e9\u2028x', slash: 'a/b' }).replace('a/b', 'a\\/b');
    const whole = await view(json);
    expect(whole).toBe('\ncard: 4111 1111\t1111 "1111"\npath: C:\\dir\\file\nu: \u00e9\u2028x\nslash: a/b\n');
    for (let chunk = 1; chunk < 12; chunk++) expect(await view(json, chunk), `chunk ${chunk}`).toBe(whole);
  });

  it('finds a string end after a backslash far earlier in the chunk, and a backslash after many strings', async () => {
    const strings = Array.from({ length: 2000 }, (_, i) => `value ${i}`);
    const json = JSON.stringify(['a\\b', ...strings, 'c\\"d']);
    const text = await view(json);
    expect(text).toBe(`\na\\b\n${strings.join('\n')}\nc\\"d\n`);
  });

  it('separates values between strings, short gaps and long ones (numbers, literals) alike', async () => {
    const json = '{"a":[1,2,3,4,5,6,7,8,9,10,11,12],"b":{"c":true,"d":null},"e":"{x:[y]}"}';
    expect(await view(json)).toBe('\na: \n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n\nb: \nc: true\nd: null\n\ne: {x:[y]}\n');
  });

  it('reads a short \\u escape by its hex prefix, and keeps text that is not JSON as written', async () => {
    expect(await view('"bad \\u12zz escape" and \\ loose')).toBe('bad \u0012 escape and \\ loose');
    expect(await view('"no \\uzzzz hex"')).toBe('no \\uzzzz hex');
    expect(await view('"cut \\u00')).toBe('cut \\u00');
  });
});
