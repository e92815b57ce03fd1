// Client side: encode the head of an OPTIONS, REQMOD or RESPMOD request (RFC 3507 §4.3.2, §4.8,
// §4.9, §4.10). The body follows as chunks (encodeChunk, encodeLastChunk); with a preview, the
// first last-chunk carries `ieof` when the preview already held the whole body (§4.5).
import type { HeaderList, HttpHead } from '../../core/types.js';
import { encodeHead } from './head-encoder.js';

export interface IcapRequestSpec {
  method: 'OPTIONS' | 'REQMOD' | 'RESPMOD';
  /** icap://host[:port]/service[?args] */
  uri: string;
  /** extra ICAP headers (identity headers, Allow); Host is added from the URI when absent */
  headers?: HeaderList;
  /** REQMOD: the request to adapt; RESPMOD: the request that produced the response (optional) */
  reqHead?: HttpHead;
  /** RESPMOD only: the response to adapt */
  resHead?: HttpHead;
  /** a body follows (req-body / res-body); false means null-body */
  hasBody: boolean;
  /** bytes of body sent as preview (Preview header); undefined = no preview */
  preview?: number;
}

/** A parsed service URI: its Host header and the URI as written on the wire. */
interface ServiceUri {
  host: string;
  wire: string;
}

/** Service URIs are a handful per process: each is parsed once, not per transaction. */
const parsed = new Map<string, ServiceUri>();
const MAX_PARSED = 256;

function serviceUri(uri: string): ServiceUri {
  const known = parsed.get(uri);
  if (known) return known;
  const url = new URL(uri);
  if (url.protocol !== 'icap:' && url.protocol !== 'icaps:') throw new TypeError(`not an ICAP URI: ${uri}`);
  // The URI goes on the wire as icap:// even over TLS (RFC 3507 §4.2 names one scheme).
  const value = { host: url.host, wire: url.protocol === 'icaps:' ? `icap:${uri.slice('icaps:'.length)}` : uri };
  if (parsed.size >= MAX_PARSED) parsed.clear();
  parsed.set(uri, value);
  return value;
}

export function encodeIcapRequest(spec: IcapRequestSpec): Buffer {
  const { host, wire: uri } = serviceUri(spec.uri);
  const headers: HeaderList = [];
  const extra = spec.headers ?? [];
  if (!extra.some(([n]) => n.toLowerCase() === 'host')) headers.push(['Host', host]);
  headers.push(...extra);
  if (spec.preview !== undefined) {
    if (!Number.isInteger(spec.preview) || spec.preview < 0) throw new TypeError(`invalid preview size ${spec.preview}`);
    if (!spec.hasBody) throw new TypeError('a preview needs a body');
    headers.push(['Preview', String(spec.preview)]);
  }
  switch (spec.method) {
    case 'OPTIONS':
      return encodeHead(`OPTIONS ${uri} ICAP/1.0`, headers, { body: 'null-body' });
    case 'REQMOD':
      if (!spec.reqHead || spec.reqHead.kind !== 'request') throw new TypeError('REQMOD needs the HTTP request head');
      return encodeHead(`REQMOD ${uri} ICAP/1.0`, headers, { reqHead: spec.reqHead, body: spec.hasBody ? 'req-body' : 'null-body' });
    case 'RESPMOD':
      if (!spec.resHead || spec.resHead.kind !== 'response') throw new TypeError('RESPMOD needs the HTTP response head');
      return encodeHead(`RESPMOD ${uri} ICAP/1.0`, headers, {
        reqHead: spec.reqHead,
        resHead: spec.resHead,
        body: spec.hasBody ? 'res-body' : 'null-body',
      });
  }
}
