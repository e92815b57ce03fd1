// Server side: encode ICAP responses (RFC 3507 §4.3.3): 100 Continue after a preview (§4.5),
// 204 No Content (§4.6), 200 with an adapted HTTP message, the OPTIONS answer (§4.10.2) and the
// error statuses of §4.3.3. A 200's body follows as chunks (encodeChunk, encodeLastChunk).
import type { HeaderList, HttpHead } from '../../core/types.js';
import { encodeHead } from './head-encoder.js';

export const ICAP_REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  204: 'No Content',
  206: 'Partial Content',
  400: 'Bad Request',
  404: 'ICAP Service Not Found',
  405: 'Method Not Allowed For Service',
  408: 'Request Timeout',
  500: 'Server Error',
  501: 'Method Not Implemented',
  503: 'Service Overloaded',
  505: 'ICAP Version Not Supported',
};

const CONTINUE = Buffer.from('ICAP/1.0 100 Continue\r\n\r\n', 'latin1');

export function encodeContinue(): Buffer {
  return CONTINUE;
}

export interface IcapResponseSpec {
  status: number;
  reason?: string;
  /** ISTag (required by §4.7 on every response), Service, X-* verdict headers, Connection */
  headers: HeaderList;
  /** REQMOD answered with an adapted request */
  reqHead?: HttpHead;
  /** RESPMOD answer, or REQMOD answered with a response (request satisfaction, §4.8.3) */
  resHead?: HttpHead;
  /** a chunked body follows (req-body or res-body by the head carried) */
  hasBody: boolean;
}

export function encodeIcapResponse(spec: IcapResponseSpec): Buffer {
  const reason = spec.reason ?? ICAP_REASONS[spec.status] ?? '';
  if (spec.hasBody && !spec.reqHead && !spec.resHead) throw new TypeError('an encapsulated body needs an HTTP head');
  const body = !spec.hasBody ? 'null-body' : spec.resHead ? 'res-body' : 'req-body';
  // A response carries one adapted message: either a request or a response head.
  const parts = spec.resHead ? { resHead: spec.resHead, body } : { reqHead: spec.reqHead, body };
  return encodeHead(`ICAP/1.0 ${spec.status} ${reason}`, spec.headers, parts as Parameters<typeof encodeHead>[2]);
}

export interface OptionsResponseSpec {
  methods: Array<'REQMOD' | 'RESPMOD'>;
  istag: string;
  service?: string;
  preview?: number;
  allow204?: boolean;
  allow206?: boolean;
  optionsTtlSeconds?: number;
  maxConnections?: number;
  transferPreview?: string[];
  transferIgnore?: string[];
  transferComplete?: string[];
  headers?: HeaderList;
}

/** The OPTIONS answer (RFC 3507 §4.10.2), always with null-body. */
export function encodeOptionsResponse(spec: OptionsResponseSpec): Buffer {
  const h: HeaderList = [['Methods', spec.methods.join(', ')], ['ISTag', quoteIstag(spec.istag)]];
  if (spec.service !== undefined) h.push(['Service', spec.service]);
  if (spec.maxConnections !== undefined) h.push(['Max-Connections', String(spec.maxConnections)]);
  if (spec.optionsTtlSeconds !== undefined) h.push(['Options-TTL', String(spec.optionsTtlSeconds)]);
  if (spec.preview !== undefined) h.push(['Preview', String(spec.preview)]);
  const allow = [spec.allow204 ? '204' : '', spec.allow206 ? '206' : ''].filter(Boolean);
  if (allow.length > 0) h.push(['Allow', allow.join(', ')]);
  if (spec.transferPreview) h.push(['Transfer-Preview', spec.transferPreview.join(', ')]);
  if (spec.transferIgnore) h.push(['Transfer-Ignore', spec.transferIgnore.join(', ')]);
  if (spec.transferComplete) h.push(['Transfer-Complete', spec.transferComplete.join(', ')]);
  h.push(...(spec.headers ?? []));
  return encodeIcapResponse({ status: 200, headers: h, hasBody: false });
}

/** An error answer without a body (400, 404, 405, 500, 503, ...). */
export function encodeErrorResponse(status: number, headers: HeaderList = []): Buffer {
  if (status < 400 || status > 599) throw new TypeError(`not an error status: ${status}`);
  return encodeIcapResponse({ status, headers, hasBody: false });
}

/** ISTag is a quoted string (RFC 3507 §4.7); quote a bare value. */
export function quoteIstag(istag: string): string {
  return istag.startsWith('"') && istag.endsWith('"') && istag.length >= 2 ? istag : `"${istag.replace(/["\\]/g, '')}"`;
}
