// A raw-socket ICAP server for what real servers do not do on demand: slow answers, a reset in the
// middle of a body, garbage, 503, Max-Connections under load. It decodes requests with the
// project's own codec and answers with whatever bytes the test's handler returns, so each test is a
// byte script. Listens on 127.0.0.1 port 0 (or a given port, to come back where a stopped one was);
// counts connections open at once; close() ends every socket.
import net from 'node:net';
import type { HttpHead } from '../../src/core/types.js';
import {
  IcapRequestDecoder,
  encodeChunk,
  encodeContinue,
  encodeIcapResponse,
  encodeLastChunk,
  encodeOptionsResponse,
  type IcapRequestHead,
  type OptionsResponseSpec,
} from '../../src/icap/codec/index.js';

export interface FakeRequest {
  head: IcapRequestHead;
  http: HttpHead[];
  body: Buffer;
  /** the request's preview ended; `ieof` says it held the whole body */
  preview: { ieof: boolean } | undefined;
  connection: number;
  /** 1-based index of this request on its connection */
  index: number;
}

export type Action =
  | { send: Buffer | string; delayMs?: number; close?: boolean }
  /** write these bytes, then reset the connection (RST) */
  | { reset: true; after?: Buffer | string; delayMs?: number }
  /** never answer */
  | { hang: true }
  /** write these bytes in `pieces` parts, `everyMs` apart; with `stopAfter`, only that many parts (then silence) */
  | { trickle: Buffer | string; pieces: number; everyMs: number; stopAfter?: number }
  /** after a preview: ask for the rest */
  | { continue: true };

export interface FakeIcapOptions {
  /** OPTIONS answer; Max-Connections, Preview, ISTag... */
  options?: Partial<OptionsResponseSpec> | ((req: FakeRequest) => Action);
  /** called when a preview ended without ieof; default: 100 Continue */
  onPreview?: (req: FakeRequest) => Action | Promise<Action>;
  /** called when a REQMOD/RESPMOD request is complete */
  onRequest?: (req: FakeRequest) => Action | Promise<Action>;
  /** listen on this port (a server brought back where a stopped one was); default 0 */
  port?: number;
}

export interface FakeIcapServer {
  port: number;
  url(service?: string): string;
  requests: FakeRequest[];
  /** connections accepted so far */
  connections: number;
  /** connections open now, and the most open at once */
  open: number;
  maxOpen: number;
  /** most REQMOD/RESPMOD transactions seen in flight at once */
  maxActive: number;
  close(): Promise<void>;
}

/** Ready-made answers. */
export const answers = {
  noContent: (istag = '"fake-1"', extra: Array<[string, string]> = []): string =>
    encodeIcapResponse({ status: 204, reason: 'Unmodified', headers: [['ISTag', istag], ...extra], hasBody: false }).toString('latin1'),
  status: (status: number, istag = '"fake-1"'): string => encodeIcapResponse({ status, headers: [['ISTag', istag]], hasBody: false }).toString('latin1'),
  modified(resHead: HttpHead, body: Buffer | string | null, headers: Array<[string, string]> = [['ISTag', '"fake-1"']]): Buffer {
    const parts = [encodeIcapResponse({ status: 200, headers, ...(resHead.kind === 'response' ? { resHead } : { reqHead: resHead }), hasBody: body !== null })];
    if (body !== null) parts.push(...encodeChunk(Buffer.from(body)), encodeLastChunk());
    return Buffer.concat(parts);
  },
};

export async function startFakeIcapServer(options: FakeIcapOptions = {}): Promise<FakeIcapServer> {
  const sockets = new Set<net.Socket>();
  let active = 0;
  const state: FakeIcapServer = {
    port: 0,
    url: (service = 'svc') => `icap://127.0.0.1:${state.port}/${service}`,
    requests: [],
    connections: 0,
    open: 0,
    maxOpen: 0,
    maxActive: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    state.maxOpen = Math.max(state.maxOpen, ++state.open);
    socket.on('close', () => {
      sockets.delete(socket);
      state.open--;
    });
    socket.on('error', () => undefined);
    const id = ++state.connections;
    let index = 0;
    const decoder = new IcapRequestDecoder();
    let current: FakeRequest | null = null;
    let chain = Promise.resolve();
    /** a reset is under way: what the client still sends is not read */
    let resetting = false;

    const perform = async (action: Action): Promise<boolean> => {
      if ('hang' in action) return false;
      if ('trickle' in action) {
        const bytes = Buffer.from(action.trickle);
        const size = Math.ceil(bytes.length / action.pieces);
        for (let i = 0; i < Math.min(action.pieces, action.stopAfter ?? action.pieces); i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, action.everyMs));
          if (socket.destroyed) return false;
          socket.write(bytes.subarray(i * size, (i + 1) * size));
        }
        return action.stopAfter === undefined;
      }
      if ('continue' in action) {
        socket.write(encodeContinue());
        return true;
      }
      if (action.delayMs) await new Promise((r) => setTimeout(r, action.delayMs));
      if (socket.destroyed) return false;
      if ('reset' in action) {
        resetting = true;
        if (action.after) socket.write(action.after);
        setTimeout(() => socket.resetAndDestroy(), 5);
        return false;
      }
      socket.write(action.send);
      if (action.close) socket.end();
      return true;
    };

    const handle = (events: ReturnType<IcapRequestDecoder['push']>) => {
      for (const e of events) {
        if (e.type === 'head') {
          current = { head: e.head, http: [], body: Buffer.alloc(0), preview: undefined, connection: id, index: ++index };
          if (e.head.method !== 'OPTIONS') state.maxActive = Math.max(state.maxActive, ++active);
        } else if (e.type === 'http-head') current!.http.push(e.head);
        else if (e.type === 'body') current!.body = Buffer.concat([current!.body, e.data]);
        else if (e.type === 'preview-end') {
          current!.preview = { ieof: e.ieof };
          if (!e.ieof) {
            const req = current!;
            chain = chain.then(async () => {
              const action = (await options.onPreview?.(req)) ?? { continue: true };
              const ok = await perform(action);
              if ('continue' in action) handle(decoder.continueAfterPreview());
              else {
                finishRequest(req);
                if (ok) handle(decoder.endAfterPreview());
              }
            });
          }
        } else if (e.type === 'end') {
          const req = current!;
          chain = chain.then(async () => {
            finishRequest(req);
            await perform(await answerFor(req));
          });
        }
      }
    };

    const finishRequest = (req: FakeRequest) => {
      if (state.requests.includes(req)) return;
      state.requests.push(req);
      if (req.head.method !== 'OPTIONS') active--;
    };

    const answerFor = async (req: FakeRequest): Promise<Action> => {
      if (req.head.method === 'OPTIONS') {
        if (typeof options.options === 'function') return options.options(req);
        return { send: encodeOptionsResponse({ methods: ['REQMOD', 'RESPMOD'], istag: 'fake-1', allow204: true, preview: 1024, optionsTtlSeconds: 3600, ...options.options }) };
      }
      return (await options.onRequest?.(req)) ?? { send: answers.noContent() };
    };

    socket.on('data', (chunk) => {
      if (resetting) return;
      try {
        handle(decoder.push(chunk));
      } catch {
        socket.end(answers.status(400));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}
