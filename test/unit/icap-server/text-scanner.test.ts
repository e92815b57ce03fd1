import { describe, expect, it } from 'vitest';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { paymentCardDetector } from '../../../src/icap-server/detectors/payment-card.js';
import { privateKeyDetector } from '../../../src/icap-server/detectors/credentials.js';
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
});
