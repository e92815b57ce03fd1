// ICAP server addresses: icap://host[:port]/service (RFC 3507 §4.2, default port 1344) and
// icaps://, ICAP over TLS (no RFC; 11344 is the port vendors and stunnel guides use).
import { ProxyError } from '../core/errors.js';

export interface IcapTarget {
  secure: boolean;
  host: string;
  port: number;
  /** the URI as sent on the request line (always icap://, RFC 3507 names one scheme) */
  uri: string;
  /** host:port, for stats and errors */
  label: string;
}

export function parseIcapUrl(url: string): IcapTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new ProxyError('CONFIG_INVALID', `invalid ICAP URL ${url}`, { cause: err });
  }
  if (parsed.protocol !== 'icap:' && parsed.protocol !== 'icaps:') {
    throw new ProxyError('CONFIG_INVALID', `ICAP URL scheme must be icap or icaps: ${url}`);
  }
  const secure = parsed.protocol === 'icaps:';
  const port = parsed.port === '' ? (secure ? 11344 : 1344) : Number(parsed.port);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const authority = `${parsed.hostname}:${port}`;
  return { secure, host, port, uri: `icap://${authority}${parsed.pathname}${parsed.search}`, label: authority };
}
