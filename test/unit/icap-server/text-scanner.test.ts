import { afterEach, describe, expect, it, vi } from 'vitest';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { paymentCardDetector } from '../../../src/icap-server/detectors/payment-card.js';
import { githubTokenDetector, privateKeyDetector } from '../../../src/icap-server/detectors/credentials.js';
import { keywordDetector } from '../../../src/icap-server/detectors/custom-rules.js';
import { saasTokenDetectors } from '../../../src/icap-server/detectors/saas-tokens.js';
import { emailAddressDetector } from '../../../src/icap-server/detectors/email-address.js';
import { TextPrefilter } from '../../../src/icap-server/detectors/prefilter/text-prefilter.js';
import { EVIDENCE_CHARS } from '../../../src/icap-server/detectors/text-detector.js';
import { TextScanner } from '../../../src/icap-server/detectors/text-scanner.js';

const RULE = { minConfidence: 'low', minCount: 1 } as const;

function run(chunks: string[], windowChars = 1024): Findings {
  const findings = new Findings();
  const scanner = new TextScanner([paymentCardDetector(RULE), privateKeyDetector(RULE)], findings, { windowChars });
  for (const c of chunks) scanner.write(c);
  scanner.end();
  return findings;
}

describe('TextScanner windows', () => {
  const card = '4111 1111 1111 1111';
  const filler = 'lorem ipsum dolor sit amet '.repeat(200); // 5400 characters

  it('finds a match that straddles every possible chunk boundary, exactly once', () => {
    const text = `${filler.slice(0, 1010)} ${card} ${filler.slice(0, 40)}`;
    for (let cut = 1000; cut < 1040; cut++) {
      const findings = run([text.slice(0, cut), text.slice(cut)]);
      expect(findings.count('payment-card'), `cut at ${cut}`).toBe(1);
    }
  });

  it('finds matches on window boundaries when fed one character at a time', () => {
    const text = `${filler}${card}${'.'.repeat(37)} -----BEGIN PRIVATE KEY----- ${filler}${card}\n`;
    const findings = run([...text], 1024);
    expect(findings.count('payment-card')).toBe(2);
    expect(findings.count('private-key')).toBe(1);
  });

  it('does not take part of a longer digit run cut by a chunk boundary for a card', () => {
    const text = `${filler}94111111111111111${filler}`;
    for (const cut of [filler.length + 1, filler.length + 5, filler.length + 17]) {
      expect(run([text.slice(0, cut), text.slice(cut)]).count('payment-card')).toBe(0);
    }
  });

  it('counts every card in a long text once, whatever the window size', () => {
    const text = Array.from({ length: 300 }, (_, i) => `row ${i}: 4111111111111111;`).join('\n');
    for (const windowChars of [512, 1000, 4096, 65536]) {
      const chunks = text.match(/[\s\S]{1,777}/g) ?? [];
      expect(run(chunks, windowChars).count('payment-card')).toBe(300);
    }
  });

  it('runs a triggered detector on every window its trigger reaches: a token cut anywhere is found once', () => {
    const token = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A';
    const text = `${filler.slice(0, 1500)} ${token} ${filler.slice(0, 1500)}`;
    for (let cut = 1490; cut < 1550; cut += 3) {
      const findings = new Findings();
      const scanner = new TextScanner([githubTokenDetector(RULE), paymentCardDetector(RULE)], findings, { windowChars: 1024 });
      scanner.write(text.slice(0, cut));
      scanner.write(text.slice(cut));
      scanner.end();
      expect(findings.count('github-token'), `cut at ${cut}`).toBe(1);
    }
  });

  it('runs a triggered detector from as far before its first trigger as a match can reach, and counts what a pass over the whole text counts', () => {
    // A keyword spelt with U+017F or U+212A, which the prefilter does not see, before the first
    // one it sees; an OpenAI key, whose trigger (T3BlbkFJ) stands up to 183 characters into it.
    const keyword = keywordDetector({ name: 'classified', words: ['TOP-SECRET', 'Project Falcon'], caseSensitive: false, minCount: 1, minConfidence: 'low', supportingWords: [] });
    const openai = saasTokenDetectors(RULE).find((d) => d.name === 'openai-api-key')!;
    const key = (before: number) => `sk-proj-${'aB3dE5fG7h'.repeat(16).slice(0, before)}T3BlbkFJ${'Qx7Lm2Np9Rs4Tv6W'.repeat(2)}`;
    let x = 17;
    const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
    const pieces = ['top-\u017fecret', 'TOP-SECRET', 'project falcon', 'Project Fal\u212aon', () => key(20 + Math.floor(rand() * 140)), '. '];
    for (let round = 0; round < 200; round++) {
      let text = '';
      while (text.length < 3000) {
        const piece = pieces[Math.floor(rand() * pieces.length)]!;
        text += `${'lorem ipsum dolor '.slice(0, Math.floor(rand() * 18)).repeat(1 + Math.floor(rand() * 40))} ${typeof piece === 'string' ? piece : piece()} `;
      }
      const findings = new Findings();
      const scanner = new TextScanner([keyword, openai, paymentCardDetector(RULE)], findings, { windowChars: 1024 });
      for (let at = 0; at < text.length; at += 700) scanner.write(text.slice(at, at + 700));
      scanner.end();
      expect(findings.count('keyword:classified'), text).toBe(text.match(new RegExp(keyword.pattern.source, keyword.pattern.flags))?.length ?? 0);
      expect(findings.count('openai-api-key'), text).toBe(text.match(new RegExp(openai.pattern.source, 'g'))?.length ?? 0);
    }
  });

  it('counts distinct e-mail addresses across windows, each once', () => {
    const findings = new Findings();
    const scanner = new TextScanner([emailAddressDetector({ minConfidence: 'low', minCount: 1 })], findings, { windowChars: 2048 });
    const text = Array.from({ length: 400 }, (_, i) => `${filler.slice(0, 40)} user${i % 100}@corp-mail.net`).join('\n');
    for (const chunk of text.match(/[\s\S]{1,333}/g) ?? []) scanner.write(chunk);
    scanner.end();
    expect(findings.count('email-address-bulk')).toBe(100);
  });
});


describe('TextScanner windows sliced from large writes', () => {
  afterEach(() => vi.restoreAllMocks());
  const detectors = () => [paymentCardDetector(RULE), githubTokenDetector(RULE), emailAddressDetector(RULE)];
  const overlap = Math.max(...detectors().map((d) => d.maxMatchChars)) + 2 * EVIDENCE_CHARS;
  const token = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A';
  let x = 13;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  /** Filler with cards, tokens and addresses every few dozen characters, one line in `lines` long. */
  function text(chars: number, lineChars = 200): string {
    const pieces = ['4111 1111 1111 1111', '5500005555555559', token, () => `user${Math.floor(rand() * 50)}@corp-mail.net`, 'lorem ipsum dolor sit amet', '9411111111111111111'];
    let out = '';
    let line = 0;
    while (out.length < chars) {
      const piece = pieces[Math.floor(rand() * pieces.length)]!;
      const word = typeof piece === 'string' ? piece : piece();
      out += line + word.length > lineChars ? '\n' : '\t';
      line = line + word.length > lineChars ? 0 : line + word.length + 1;
      out += word;
    }
    return out;
  }
  function scan(chunks: string[], windowChars?: number): Record<string, number> {
    const findings = new Findings();
    const scanner = new TextScanner(detectors(), findings, windowChars === undefined ? {} : { windowChars });
    for (const chunk of chunks) scanner.write(chunk);
    scanner.end();
    return Object.fromEntries(['payment-card', 'github-token', 'email-address-bulk'].map((name) => [name, findings.count(name)]));
  }
  /** `whole` cut into pieces of the given sizes, in turn, to its end. */
  const cut = (whole: string, sizes: number[]) => {
    const chunks: string[] = [];
    for (let at = 0, k = 0; at < whole.length; at += sizes[k++ % sizes.length]!) chunks.push(whole.slice(at, at + sizes[k % sizes.length]!));
    return chunks;
  };

  it('counts what one write of the whole text counts, cut at every offset into a small and a large write, or a large and a small', () => {
    const windowChars = 2 * overlap;
    const whole = text(3 * windowChars);
    const expected = scan([whole], windowChars);
    expect(expected['payment-card']).toBeGreaterThan(20);
    expect(expected['github-token']).toBeGreaterThan(10);
    for (let at = 1; at < whole.length; at++) expect(scan([whole.slice(0, at), whole.slice(at)], windowChars), `cut at ${at}`).toEqual(expected);
  });

  it('counts the same for writes of 1 to 65,536 characters and past a window, mixed, at the default window and a small one', () => {
    const whole = text(600 * 1024);
    for (const windowChars of [undefined, 3 * overlap]) {
      const expected = scan([whole], windowChars);
      expect(expected['payment-card']).toBeGreaterThan(1000);
      for (const sizes of [[65536], [65535], [65537], [1, 70_000], [100_000, 3], [3 * overlap + 1, 2 * overlap - 1], [131_072, 20_000, 65_536, 7], [overlap, overlap + 1, 4097]]) {
        expect(scan(cut(whole, sizes), windowChars), `${windowChars}: ${sizes.join(',')}`).toEqual(expected);
      }
    }
    // One character at a time, and random sizes.
    const short = whole.slice(0, 200_000);
    const expected = scan([short], 3 * overlap);
    expect(scan([...short], 3 * overlap)).toEqual(expected);
    for (let round = 0; round < 20; round++) expect(scan(cut(short, Array.from({ length: 9 }, () => 1 + Math.floor(rand() * (rand() < 0.5 ? 65536 : 16 * overlap)))), 3 * overlap)).toEqual(expected);
  });

  it('finds each card once in a 300 KiB cell, written whole or in pieces', () => {
    const cell = `${'x'.repeat(150 * 1024)} 4111 1111 1111 1111 ${'y'.repeat(150 * 1024)} 5500005555555559`;
    for (const chunks of [[cell], cut(cell, [65536]), cut(cell, [1000, 200_000]), [cell.slice(0, 150 * 1024 + 5), cell.slice(150 * 1024 + 5)]]) expect(scan(chunks)['payment-card']).toBe(2);
  });

  it('reads no window longer than windowChars plus one overlap, whatever the writes', () => {
    const lengths: number[] = [];
    const original = TextPrefilter.prototype.scan;
    vi.spyOn(TextPrefilter.prototype, 'scan').mockImplementation(function (this: TextPrefilter, window: string) {
      lengths.push(window.length);
      return original.call(this, window);
    });
    const windowChars = 4 * overlap;
    const whole = text(400 * 1024);
    for (const sizes of [[1, windowChars - 2, 5 * windowChars], [windowChars - 1, windowChars + 1], [300 * 1024], [17, 3 * windowChars, windowChars - 20]]) scan(cut(whole, sizes), windowChars);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(windowChars + overlap);
    expect(lengths.length).toBeGreaterThan(0);
  });
});

describe('long runs of word characters', () => {
  /**
   * Time of scanning 1 MiB over time of scanning 256 KiB four times, each the best of seven rounds
   * taken in turns (a shared machine's pauses only ever add time): about 1 when the scan is
   * linear, 4 when it is quadratic.
   */
  function growth(make: (chars: number) => string, scan: (text: string) => void): number {
    const small = make(256 * 1024);
    const large = make(1024 * 1024);
    expect(large.length).toBeGreaterThanOrEqual(4 * small.length - 16);
    let smallMs = Infinity;
    let largeMs = Infinity;
    for (let round = 0; round < 7; round++) {
      let started = performance.now();
      for (let i = 0; i < 16; i++) scan(small);
      smallMs = Math.min(smallMs, performance.now() - started);
      started = performance.now();
      for (let i = 0; i < 4; i++) scan(large);
      largeMs = Math.min(largeMs, performance.now() - started);
    }
    return largeMs / smallMs;
  }
  const runs = {
    letters: (n: number) => 'a'.repeat(n),
    'letters and digits': (n: number) => 'x7Kq2'.repeat(n / 5),
    'dotted labels': (n: number) => 'mail.example.'.repeat(n / 13),
    'hyphenated labels': (n: number) => 'ab-cd-'.repeat(n / 6),
    '"@" in front': (n: number) => `@${'a'.repeat(n - 1)}`,
    '"@" every hundred characters': (n: number) => `${'x'.repeat(99)}@`.repeat(n / 100),
  };

  it.each(Object.entries(runs))('the e-mail detector reads 1 MiB of %s in linear time, and finds no address', (_, make) => {
    // The detector's pattern is sticky (TextScanner runs it at each '@'): a global copy reads the whole text.
    const pattern = new RegExp(emailAddressDetector(RULE).pattern.source, 'g');
    const scan = (text: string) => {
      pattern.lastIndex = 0;
      expect(pattern.exec(text)).toBeNull();
      const findings = new Findings();
      const scanner = new TextScanner([emailAddressDetector({ minConfidence: 'low', minCount: 1 })], findings);
      for (let at = 0; at < text.length; at += 65536) scanner.write(text.slice(at, at + 65536));
      scanner.end();
      expect(findings.violations()).toEqual([]);
    };
    expect(growth(make, scan)).toBeLessThan(2.5);
  });
});

describe('TextScanner reads text as it is read', () => {
  const card = '4111 1111 1111 1111';
  const fullwidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
  const between = (s: string, mark: string) => [...s].join(mark);

  it('finds a card number typed in fullwidth digits, or with invisible characters between its digits', () => {
    const disguised = [
      fullwidth(card),
      ...['\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'].map((mark) => between(card, mark)),
      between(fullwidth(card), '\u200b'),
    ];
    for (const text of disguised) {
      // in a one-byte string (soft hyphen) and in a two-byte one, whole and cut at every place
      for (const around of [['card: ', ' exp 05/28'], ['carte bancaire \u20ac ', ' exp 05/28']]) {
        const whole = `${around[0]}${text}${around[1]}`;
        expect(run([whole]).count('payment-card'), JSON.stringify(whole)).toBe(1);
        for (let cut = 1; cut < whole.length; cut++) expect(run([whole.slice(0, cut), whole.slice(cut)]).count('payment-card')).toBe(1);
      }
    }
  });
});

describe('TextScanner decodes percent escapes', () => {
  it('finds a card number written with percent escapes, whole or cut anywhere, one character at a time too', () => {
    for (const text of ['q=4111%201111%201111%201111&x=1', '%34%31%31%31%20%31%31%31%31%20%31%31%31%31%20%31%31%31%31', 'card%3A4111-1111-1111-1111%']) {
      expect(run([text]).count('payment-card'), text).toBe(1);
      for (let cut = 1; cut < text.length; cut++) expect(run([text.slice(0, cut), text.slice(cut)]).count('payment-card'), `${text} cut at ${cut}`).toBe(1);
      expect(run([...text]).count('payment-card')).toBe(1);
    }
  });

  it('holds a percent sign at the end of a write only until the next one (or the end)', () => {
    expect(run(['100%', ' sure: 4111 1111 1111 1111 %']).count('payment-card')).toBe(1);
    expect(run(['4111 1111 1111 1111%', '4']).count('payment-card')).toBe(1);
  });
});
