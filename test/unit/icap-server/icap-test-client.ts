// A minimal ICAP client for tests of the built-in server: raw bytes out (so tests can send
// malformed requests), answers decoded with the codec's response decoder.
import net from 'node:net';
import { IcapResponseDecoder, encodeChunk, encodeIcapRequest, encodeLastChunk, type IcapRequestSpec } from '../../../src/icap/codec/index.js';
import type { HttpHead, IcapHeaders } from '../../../src/core/types.js';

export interface IcapAnswer {
  status: number;
  headers: IcapHeaders;
  httpHead?: HttpHead;
  body: Buffer;
}

export class IcapTestClient {
  private readonly decoder = new IcapResponseDecoder();
  private readonly answers: IcapAnswer[] = [];
  private readonly waiters: Array<{ resolve: (a: IcapAnswer) => void; reject: (e: Error) => void }> = [];
  private current: IcapAnswer | undefined;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    // The head and the preview go in separate writes: without NODELAY, Nagle holds the second.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.decoder.push(chunk)) {
        if (event.type === 'continue') this.deliver({ status: event.head.status, headers: event.head.headers, body: Buffer.alloc(0) });
        else if (event.type === 'head') this.current = { status: event.head.status, headers: event.head.headers, body: Buffer.alloc(0) };
        else if (event.type === 'http-head' && this.current) this.current.httpHead = event.head;
        else if (event.type === 'body' && this.current) this.current.body = Buffer.concat([this.current.body, event.data]);
        else if (event.type === 'end' && this.current) {
          this.deliver(this.current);
          this.current = undefined;
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed'));
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<IcapTestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new IcapTestClient(socket)));
      socket.once('error', reject);
    });
  }

  private deliver(answer: IcapAnswer): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(answer);
    else this.answers.push(answer);
  }

  send(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  next(timeoutMs = 5000): Promise<IcapAnswer> {
    const ready = this.answers.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ICAP answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Send a whole transaction; with a preview, answers 100 Continue by sending the rest. */
  async transact(spec: Omit<IcapRequestSpec, 'hasBody'>, body?: Buffer): Promise<IcapAnswer & { continued: boolean }> {
    this.send(encodeIcapRequest({ ...spec, hasBody: body !== undefined }));
    if (body === undefined) return { ...(await this.next()), continued: false };
    if (spec.preview === undefined) {
      this.send(Buffer.concat([...encodeChunk(body), encodeLastChunk()]));
      return { ...(await this.next()), continued: false };
    }
    const preview = body.subarray(0, spec.preview);
    const ieof = body.length <= spec.preview;
    this.send(Buffer.concat([...encodeChunk(preview), encodeLastChunk(ieof)]));
    const first = await this.next();
    if (first.status !== 100) return { ...first, continued: false };
    this.send(Buffer.concat([...encodeChunk(body.subarray(spec.preview)), encodeLastChunk()]));
    return { ...(await this.next()), continued: true };
  }

  close(): void {
    this.socket.destroy();
  }
}

export const httpRequest = (headers: Array<[string, string]> = []): HttpHead => ({
  kind: 'request',
  method: 'POST',
  target: 'http://origin.test/upload',
  version: '1.1',
  headers: [['Host', 'origin.test'], ...headers],
});

export const httpResponse = (headers: Array<[string, string]> = []): HttpHead => ({
  kind: 'response',
  status: 200,
  reason: 'OK',
  version: '1.1',
  headers,
});
