// An OPTIONS answer as a value (RFC 3507 §4.10.2; g3's options/response.rs): what the service
// accepts and how to talk to it, valid for Options-TTL seconds (forever when absent, per §4.10.2).
import type { IcapHeaders } from '../core/types.js';

export type TransferMode = 'preview' | 'ignore' | 'complete';

export class IcapOptions {
  readonly methods: string[];
  /** bytes the server wants as preview; undefined = no preview */
  readonly preview: number | undefined;
  readonly allow204: boolean;
  readonly allow206: boolean;
  readonly istag: string | undefined;
  readonly maxConnections: number | undefined;
  readonly service: string | undefined;
  /** the Server header some vendors add (not in RFC 3507 §4.10.2; read by `vendor: auto`) */
  readonly server: string | undefined;
  readonly ttlMs: number | undefined;
  readonly transferPreview: string[];
  readonly transferIgnore: string[];
  readonly transferComplete: string[];
  readonly fetchedAt: number;
  readonly headers: IcapHeaders;
  /** some Transfer-* list names an extension (not only `*`): only then is the target parsed */
  private readonly byExtension: boolean;

  constructor(headers: IcapHeaders, fetchedAt: number) {
    this.headers = headers;
    this.fetchedAt = fetchedAt;
    this.methods = list(headers.get('methods')).map((m) => m.toUpperCase());
    this.preview = count(headers.get('preview'));
    const allow = list(headers.get('allow'));
    this.allow204 = allow.includes('204');
    this.allow206 = allow.includes('206');
    this.istag = headers.get('istag');
    this.maxConnections = count(headers.get('max-connections'));
    this.service = headers.get('service');
    this.server = headers.get('server');
    const ttl = count(headers.get('options-ttl'));
    this.ttlMs = ttl === undefined ? undefined : ttl * 1000;
    this.transferPreview = list(headers.get('transfer-preview')).map((e) => e.toLowerCase());
    this.transferIgnore = list(headers.get('transfer-ignore')).map((e) => e.toLowerCase());
    this.transferComplete = list(headers.get('transfer-complete')).map((e) => e.toLowerCase());
    this.byExtension = [...this.transferPreview, ...this.transferIgnore, ...this.transferComplete].some((e) => e !== '*');
  }

  isExpired(now = Date.now()): boolean {
    return this.ttlMs !== undefined && now >= this.fetchedAt + this.ttlMs;
  }

  supports(method: string): boolean {
    return this.methods.length === 0 || this.methods.includes(method.toUpperCase());
  }

  /**
   * Transfer-* by file extension of the request target (§4.10.2): an extension listed explicitly
   * wins over `*`; with no list matching, a preview is sent as negotiated.
   */
  transferFor(target: string | undefined): TransferMode {
    // Parsing the target as a URL was a per-transaction cost for lists that name no extension.
    const ext = this.byExtension ? extensionOf(target) : undefined;
    if (ext !== undefined) {
      if (this.transferIgnore.includes(ext)) return 'ignore';
      if (this.transferComplete.includes(ext)) return 'complete';
      if (this.transferPreview.includes(ext)) return 'preview';
    }
    if (this.transferComplete.includes('*')) return 'complete';
    if (this.transferIgnore.includes('*')) return 'ignore';
    return 'preview';
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value);
}

function extensionOf(target: string | undefined): string | undefined {
  if (!target) return undefined;
  let path = target;
  try {
    path = new URL(target, 'http://x').pathname;
  } catch {
    /* a target that is not a URL: use it as a path */
  }
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? decodeSafe(name.slice(dot + 1)).toLowerCase() : undefined;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
