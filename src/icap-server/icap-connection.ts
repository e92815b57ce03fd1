// One ICAP connection of the built-in server: decode requests (RFC 3507 §4.3.2), scan each body
// as it arrives, answer, and keep the connection for the next request (§4.3: persistent by
// default). Socket reads pause while a chunk is scanned, so a fast client cannot grow the heap.
//
//   head ─► http heads ─► body chunks ─► preview-end ─┬─ ieof ─────────────────► end ─► 204 | 200 block | 200 echo
//                                                      └─ 100 Continue ─► more chunks ─► end ─┘
// A malformed request is answered 400 and the connection closed: no byte after it can be trusted.
import diagnosticsChannel from 'node:diagnostics_channel';
import type net from 'node:net';
import type { HeaderList, HttpHead } from '../core/types.js';
import {
  IcapRequestDecoder,
  encodeChunk,
  encodeContinue,
  encodeErrorResponse,
  encodeIcapResponse,
  encodeLastChunk,
  isIcapParseError,
  type IcapRequestEvent,
  type IcapRequestHead,
} from '../icap/codec/index.js';
import { blockResponse, violationHeaders } from './block-response.js';
import { BodyScan, type ContentDescription } from './decode/body-scan.js';
import type { IcapServerConfig, ScanMethod } from './detectors/detector-set.js';
import { serviceNameOf, type ServiceRuntime } from './services.js';

/** Published once per answered transaction: { service, method, status, violations, bodyBytes, durationMs }. */
export const transactionChannel = diagnosticsChannel.channel('dlp-proxy:icap-server:transaction');

export interface ServerContext {
  config: IcapServerConfig;
  services: Map<string, ServiceRuntime>;
}

interface Transaction {
  head: IcapRequestHead;
  method: 'OPTIONS' | ScanMethod;
  service: ServiceRuntime;
  reqHead?: HttpHead;
  resHead?: HttpHead;
  scan?: BodyScan;
  bodyBytes: number;
  scannedBytes: number;
  /** The body as received, kept only when the client did not offer `Allow: 204` (§4.6). */
  echo: Buffer[] | null;
  echoOverflow: boolean;
  previewIeof: boolean;
  startedAt: number;
}

const METHODS = new Set(['OPTIONS', 'REQMOD', 'RESPMOD']);

function headerOf(head: HttpHead | undefined, name: string): string | undefined {
  return head?.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

export class IcapConnection {
  private readonly decoder: IcapRequestDecoder;
  private tx: Transaction | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly ctx: ServerContext,
  ) {
    this.decoder = new IcapRequestDecoder({ maxHeadBytes: ctx.config.maxHeadBytes });
    // Squid writes the ICAP head and the preview separately: without NODELAY each answer waits
    // for a delayed ACK (about 40 ms per round trip).
    socket.setNoDelay(true);
    if (ctx.config.idleTimeoutMs > 0) socket.setTimeout(ctx.config.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      this.queue = this.queue
        .then(() => this.onData(chunk))
        .then(
          () => {
            if (!this.closing) socket.resume();
          },
          (err: unknown) => this.reject(isIcapParseError(err) ? 400 : 500),
        );
    });
    socket.on('end', () => {
      this.queue = this.queue.then(() => {
        if (!this.closing) socket.end();
      });
    });
    socket.on('error', () => socket.destroy());
  }

  private async onData(chunk: Buffer): Promise<void> {
    if (this.closing) return;
    await this.handle(this.decoder.push(chunk));
  }

  private async handle(events: IcapRequestEvent[]): Promise<void> {
    for (const event of events) {
      if (this.closing) return;
      const tx = this.tx;
      if (event.type === 'head') {
        this.begin(event.head);
      } else if (tx === undefined) {
        continue;
      } else if (event.type === 'http-head') {
        if (event.section === 'req-hdr') tx.reqHead = event.head;
        else tx.resHead = event.head;
      } else if (event.type === 'body') {
        await this.body(tx, Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length));
      } else if (event.type === 'preview-end') {
        if (event.ieof) {
          tx.previewIeof = true;
        } else {
          // RFC 3507 §4.5: the verdict needs the whole body, so ask for the rest.
          this.socket.write(encodeContinue());
          await this.handle(this.decoder.continueAfterPreview());
        }
      } else {
        await this.finish(tx);
      }
    }
  }

  private begin(head: IcapRequestHead): void {
    if (head.version !== '1.0') return this.reject(505);
    if (!METHODS.has(head.method)) return this.reject(501);
    const name = serviceNameOf(head.uri);
    if (name === undefined) return this.reject(400);
    const service = this.ctx.services.get(name);
    if (service === undefined) return this.reject(404);
    this.tx = {
      head,
      method: head.method as Transaction['method'],
      service,
      bodyBytes: 0,
      scannedBytes: 0,
      echo: head.allow204 ? null : [],
      echoOverflow: false,
      previewIeof: false,
      startedAt: performance.now(),
    };
  }

  private async body(tx: Transaction, data: Buffer): Promise<void> {
    if (tx.method === 'OPTIONS') return;
    tx.bodyBytes += data.length;
    if (tx.echo !== null) {
      if (tx.bodyBytes > this.ctx.config.maxEchoBytes) {
        tx.echo = null;
        tx.echoOverflow = true;
      } else {
        tx.echo.push(Buffer.from(data));
      }
    }
    const room = this.ctx.config.maxScanBytes - tx.scannedBytes;
    if (room <= 0) return;
    if (tx.scan === undefined) {
      const http = tx.method === 'REQMOD' ? tx.reqHead : tx.resHead;
      const content: ContentDescription = { contentType: headerOf(http, 'content-type'), contentEncoding: headerOf(http, 'content-encoding') };
      tx.scan = new BodyScan(tx.service.detectors[tx.method], content, this.ctx.config, { service: tx.service.name, method: tx.method });
    }
    const part = data.length > room ? data.subarray(0, room) : data;
    tx.scannedBytes += part.length;
    await tx.scan.write(part);
  }

  private async finish(tx: Transaction): Promise<void> {
    this.tx = undefined;
    if (tx.method === 'OPTIONS') {
      this.socket.write(tx.service.options);
      return this.afterAnswer(tx, 200, []);
    }
    const violations = tx.scan ? await tx.scan.end() : [];
    const own: HeaderList = [['ISTag', tx.service.istag]];
    let status = 200;
    if (violations.length > 0) {
      const page = blockResponse(violations, tx.service.name);
      const headers: HeaderList = [...own, ...violationHeaders(violations)];
      // A REQMOD answered with a response is request satisfaction (RFC 3507 §4.8.3).
      this.socket.write(Buffer.concat([encodeIcapResponse({ status: 200, headers, resHead: page.head, hasBody: true }), ...encodeChunk(page.body), encodeLastChunk()]));
    } else if (tx.head.allow204 || (tx.head.preview !== undefined && tx.previewIeof)) {
      // §4.6: 204 needs `Allow: 204`, except in answer to a preview that held the whole body (§4.5).
      status = 204;
      this.socket.write(encodeIcapResponse({ status: 204, headers: own, hasBody: false }));
    } else if (tx.echoOverflow) {
      return this.reject(500);
    } else {
      this.socket.write(this.echo(tx, own));
    }
    this.afterAnswer(tx, status, violations.map((v) => v.name));
  }

  /** The unmodified message, for clients that cannot take a 204. */
  private echo(tx: Transaction, headers: HeaderList): Buffer {
    const hasBody = tx.bodyBytes > 0;
    const parts = tx.method === 'REQMOD' ? { reqHead: tx.reqHead } : { resHead: tx.resHead };
    if (parts.reqHead === undefined && parts.resHead === undefined) return encodeIcapResponse({ status: 204, headers, hasBody: false });
    const head = encodeIcapResponse({ status: 200, headers, ...parts, hasBody });
    if (!hasBody) return head;
    return Buffer.concat([head, ...(tx.echo ?? []).flatMap((b) => encodeChunk(b)), encodeLastChunk()]);
  }

  private afterAnswer(tx: Transaction, status: number, violations: string[]): void {
    if (transactionChannel.hasSubscribers) {
      transactionChannel.publish({ service: tx.service.name, method: tx.method, status, violations, bodyBytes: tx.bodyBytes, durationMs: performance.now() - tx.startedAt });
    }
    if (tx.head.headers.get('connection')?.toLowerCase() === 'close') {
      this.closing = true;
      this.socket.end();
    }
  }

  /** An error answer (RFC 3507 §4.3.3); the connection closes, as what follows cannot be framed. */
  private reject(status: number): void {
    if (this.closing) return;
    this.closing = true;
    this.tx = undefined;
    if (!this.socket.destroyed) this.socket.end(encodeErrorResponse(status, [['Connection', 'close']]));
  }
}
