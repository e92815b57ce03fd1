// Client side: decode ICAP responses (RFC 3507 §4.3.3) from a connection, one after another.
// `100 Continue` is an interim answer to a preview (§4.5) and yields a 'continue' event. A
// response without Encapsulated (c-icap's 204 Unmodified) carries nothing after its head.
import type { HeaderList, HttpHead } from '../../core/types.js';
import type { BodyName } from './encapsulated.js';
import { toIcapHeaders } from './header-block.js';
import { MessageDecoder, type BodyEvent, type DecoderLimits, type IcapHeadBase } from './message-decoder.js';
import { IcapParseError } from './parse-error.js';

export interface IcapResponseHead extends IcapHeadBase {
  status: number;
  /** any reason phrase, possibly empty ("204 Unmodified", "200 OK") */
  reason: string;
}

export type IcapResponseEvent =
  | { type: 'continue'; head: IcapResponseHead }
  | { type: 'head'; head: IcapResponseHead }
  | { type: 'http-head'; section: 'req-hdr' | 'res-hdr'; head: HttpHead }
  | { type: 'body'; data: Uint8Array }
  | { type: 'end'; trailers: HeaderList };

const STATUS_LINE = /^ICAP\/(1\.\d) (\d{3})(?:[ \t]([^\x00-\x08\x0a-\x1f\x7f]*))?$/;

export class IcapResponseDecoder extends MessageDecoder<IcapResponseHead, IcapResponseEvent> {
  constructor(limits: Partial<DecoderLimits> = {}) {
    super(limits);
  }

  protected parseStartLine(line: string, rawHeaders: HeaderList): IcapResponseHead {
    const m = STATUS_LINE.exec(line);
    if (!m) throw new IcapParseError('start-line', `invalid ICAP status line ${JSON.stringify(line.slice(0, 80))}`);
    const status = Number(m[2]);
    if (status < 100) throw new IcapParseError('start-line', `invalid ICAP status ${status}`);
    return { version: m[1]!, status, reason: (m[3] ?? '').trim(), headers: toIcapHeaders(rawHeaders), rawHeaders, encapsulated: null };
  }

  protected onHead(head: IcapResponseHead, events: IcapResponseEvent[]): BodyName | 'none' | 'interim' {
    if (head.status >= 100 && head.status < 200) {
      events.push({ type: 'continue', head });
      return 'interim';
    }
    events.push({ type: 'head', head });
    if (head.encapsulated === null) {
      events.push({ type: 'end', trailers: [] });
      return 'none';
    }
    return head.encapsulated.body.name;
  }

  protected onBodyEnd(_ieof: boolean, trailers: HeaderList, events: IcapResponseEvent[]): 'end' | 'hold' {
    events.push({ type: 'end', trailers });
    return 'end';
  }

  protected wrap(event: BodyEvent): IcapResponseEvent {
    return event;
  }
}
