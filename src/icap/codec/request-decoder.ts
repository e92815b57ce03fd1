// Server side: decode ICAP requests (RFC 3507 §4.3.2) from a connection. With a Preview header the
// first last-chunk ends the preview (§4.5): 'preview-end' says whether `ieof` marked it as the whole
// body. Otherwise the decoder holds what follows until the server decides: after sending
// `100 Continue` it calls continueAfterPreview() and the rest of the body is decoded; after a
// final answer (204, 200) it calls endAfterPreview() and the next bytes start a new request.
import type { HeaderList, HttpHead } from '../../core/types.js';
import type { BodyName } from './encapsulated.js';
import { toIcapHeaders } from './header-block.js';
import { MessageDecoder, type BodyEvent, type DecoderLimits, type IcapHeadBase } from './message-decoder.js';
import { IcapParseError } from './parse-error.js';

export interface IcapRequestHead extends IcapHeadBase {
  /** OPTIONS, REQMOD, RESPMOD, or any other token (the server answers 405) */
  method: string;
  uri: string;
  /** the Preview header's size, or undefined when the client sent no preview */
  preview: number | undefined;
  /** `Allow: 204` was offered (RFC 3507 §4.6) */
  allow204: boolean;
}

export type IcapRequestEvent =
  | { type: 'head'; head: IcapRequestHead }
  | { type: 'http-head'; section: 'req-hdr' | 'res-hdr'; head: HttpHead }
  | { type: 'body'; data: Uint8Array }
  | { type: 'preview-end'; ieof: boolean }
  | { type: 'end'; trailers: HeaderList };

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) ICAP\/(1\.\d)$/;

export class IcapRequestDecoder extends MessageDecoder<IcapRequestHead, IcapRequestEvent> {
  private inPreview = false;

  constructor(limits: Partial<DecoderLimits> = {}) {
    super(limits);
  }

  /** The server sent `100 Continue`: decode the rest of the body. */
  continueAfterPreview(): IcapRequestEvent[] {
    return this.resume('body');
  }

  /** The server answered after the preview without 100: the message is over. */
  endAfterPreview(): IcapRequestEvent[] {
    return this.resume('head');
  }

  protected parseStartLine(line: string, rawHeaders: HeaderList): IcapRequestHead {
    const m = REQUEST_LINE.exec(line);
    if (!m) throw new IcapParseError('start-line', `invalid ICAP request line ${JSON.stringify(line.slice(0, 80))}`);
    const headers = toIcapHeaders(rawHeaders);
    const previewValue = headers.get('preview');
    let preview: number | undefined;
    if (previewValue !== undefined) {
      if (!/^\d{1,9}$/.test(previewValue)) throw new IcapParseError('header', `invalid Preview value ${JSON.stringify(previewValue.slice(0, 20))}`);
      preview = Number(previewValue);
    }
    const allow = (headers.get('allow') ?? '').split(',').map((s) => s.trim());
    return { method: m[1]!, uri: m[2]!, version: m[3]!, headers, rawHeaders, encapsulated: null, preview, allow204: allow.includes('204') };
  }

  protected onHead(head: IcapRequestHead, events: IcapRequestEvent[]): BodyName | 'none' | 'interim' {
    events.push({ type: 'head', head });
    if (head.encapsulated === null) {
      if (head.method === 'REQMOD' || head.method === 'RESPMOD') {
        throw new IcapParseError('encapsulated', `${head.method} without an Encapsulated header (RFC 3507 §4.4.1)`);
      }
      events.push({ type: 'end', trailers: [] });
      return 'none';
    }
    const body = head.encapsulated.body.name;
    this.inPreview = head.preview !== undefined && body !== 'null-body';
    return body;
  }

  protected onBodyEnd(ieof: boolean, trailers: HeaderList, events: IcapRequestEvent[]): 'end' | 'hold' {
    if (this.inPreview) {
      this.inPreview = false;
      events.push({ type: 'preview-end', ieof });
      if (!ieof) return 'hold';
    }
    events.push({ type: 'end', trailers });
    return 'end';
  }

  protected wrap(event: BodyEvent): IcapRequestEvent {
    return event;
  }
}
