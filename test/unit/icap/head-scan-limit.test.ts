// The ICAP head is scanned line by line (indexOf): the limit must hold at the same byte as a
// byte-by-byte scan, wherever the socket splits the head, with leading empty lines and bare LFs.
import { describe, expect, it } from 'vitest';
import { IcapResponseDecoder, isIcapParseError } from '../../../src/icap/codec/index.js';

const MAX = 256;

/** A 204 head of exactly `size` bytes (start line, one padding header, blank line). */
function head(size: number, eol = '\r\n'): Buffer {
  const start = `ICAP/1.0 204 No Content${eol}`;
  const fixed = start.length + 'X-Pad: '.length + eol.length * 2;
  return Buffer.from(`${start}X-Pad: ${'p'.repeat(size - fixed)}${eol}${eol}`, 'latin1');
}

function outcome(parts: Buffer[]): 'ok' | 'too-large' {
  const d = new IcapResponseDecoder({ maxHeadBytes: MAX });
  try {
    const events = parts.flatMap((p) => d.push(p));
    expect(events.some((e) => e.type === 'head')).toBe(true);
    return 'ok';
  } catch (err) {
    if (isIcapParseError(err) && err.reason === 'head-too-large') return 'too-large';
    throw err;
  }
}

describe('ICAP head limit, line-wise scan', () => {
  it.each(['\r\n', '\n'])('a head of MAX bytes passes and MAX + 1 fails, at every split point (EOL %j)', (eol) => {
    for (const [size, expected] of [[MAX, 'ok'], [MAX + 1, 'too-large']] as const) {
      const bytes = head(size, eol);
      expect(bytes.length).toBe(size);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(outcome([bytes.subarray(0, cut), bytes.subarray(cut)]), `size ${size}, cut at ${cut}`).toBe(expected);
      }
      expect(outcome([...bytes].map((b) => Buffer.from([b])))).toBe(expected);
    }
  });

  it('leading empty lines do not count against the head', () => {
    const bytes = Buffer.concat([Buffer.from('\r\n\n\r\n'), head(MAX)]);
    for (let cut = 0; cut <= bytes.length; cut += 7) expect(outcome([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe('ok');
  });
});
