// Byte-script helpers for codec tests: feed a message at every split the test asks for and fold
// the events into one comparable summary (body chunks joined).
import { IcapParseError, type IcapRequestEvent, type IcapResponseEvent } from '../../../src/icap/codec/index.js';

export const crlf = (lines: string[]): string => lines.join('\r\n');
export const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

type AnyEvent = IcapResponseEvent | IcapRequestEvent;

export interface Summary<E extends AnyEvent> {
  events: string[];
  bodies: string[];
  heads: E[];
}

/** Fold events: consecutive body events become one string so any split gives the same summary. */
export function summarise<E extends AnyEvent>(events: E[]): Summary<E> {
  const out: Summary<E> = { events: [], bodies: [], heads: [] };
  let body: Buffer[] | null = null;
  for (const e of events) {
    if (e.type === 'body') {
      body ??= [];
      body.push(Buffer.from(e.data));
      continue;
    }
    if (body) {
      out.events.push('body');
      out.bodies.push(Buffer.concat(body).toString('latin1'));
      body = null;
    }
    out.events.push(e.type === 'preview-end' ? `preview-end${e.ieof ? ':ieof' : ''}` : e.type);
    if (e.type !== 'end') out.heads.push(e);
  }
  if (body) {
    out.events.push('body');
    out.bodies.push(Buffer.concat(body).toString('latin1'));
  }
  return out;
}

/** Feed `input` cut at the given sizes (cycled); returns every event. */
export function feed<E>(decoder: { push(b: Uint8Array): E[] }, input: Buffer, sizes: number[] = [input.length]): E[] {
  const events: E[] = [];
  let i = 0;
  let k = 0;
  while (i < input.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    events.push(...decoder.push(input.subarray(i, i + n)));
    i += n;
  }
  return events;
}

/** Splits worth trying on every script: whole, byte by byte, and a few odd sizes. */
export const SPLITS: number[][] = [[Number.MAX_SAFE_INTEGER], [1], [2], [3, 7], [13], [64, 1]];

export function parseErrorOf(fn: () => unknown): IcapParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof IcapParseError) return err;
    throw err;
  }
  throw new Error('expected an IcapParseError');
}
