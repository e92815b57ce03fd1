// Patience links across cluster workers. node:cluster deals each connection to any worker, so the
// status poll or the file fetch of a patience page can reach a worker that does not hold the file.
// The link names its holder (`file.TOKEN.N`: worker N, patience-store.ts), and any other worker
// relays the request over loopback to the holder's relay listener. The holder answers it from its
// store exactly as it answers its own clients (patience.ts answerPatience: the same binding to the
// client address and URL, the same 403 and 404, one fetch of the file), and the relaying worker
// streams that answer to its client.
//
//   client ─► worker A ─GET /patience (secret; op, token, who, which URL)─► worker N's relay listener
//   client ◄─ worker A ◄─status, headers, body; RELAY_RECORD (decisions, verdicts) for A's log──┘
//
// The listener is on 127.0.0.1 and answers only requests carrying the secret the primary gave its
// workers with the config: anything else gets 403 and learns nothing of the store. Its port is
// one of the proxy's own listeners (never forwarded to). A holder that is gone took its files with
// it: its links answer 404, as expired ones do.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Exchange } from '../core/exchange.js';
import type { Decision, Verdict } from '../core/types.js';
import type { PatienceStore } from './patience-store.js';
import { answerPatience, RELAY_RECORD, relayValue, type PatienceFetch, type PatienceOp } from './patience.js';

const RELAY_PATH = '/patience';
const SECRET_HEADER = 'x-dlp-relay-secret';
const REQUEST_HEADER = 'x-dlp-relay-request';
/** Not passed on to the client: the relay hop's own framing and bookkeeping (Node sets Date and framing itself). */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', RELAY_RECORD]);

/** What the holder needs to answer as if the client had asked it. */
interface RelayRequest {
  op: 'status' | 'file';
  token: string;
  id: string;
  clientIp: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  target: string;
  accept?: string;
}

export class PatienceRelay {
  readonly #store: PatienceStore;
  readonly #secret: Buffer;
  /** live workers' relay ports by worker id (the primary's last word) */
  #peers = new Map<number, number>();
  readonly #server: http.Server;

  constructor(store: PatienceStore, secret: string) {
    this.#store = store;
    this.#secret = Buffer.from(secret);
    this.#server = http.createServer((req, res) => this.#answer(req, res));
  }

  /** Listen on 127.0.0.1 (a free port); resolves with the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      // exclusive: in a cluster worker a plain listen(0) gets the primary's one shared handle, so
      // every worker would answer on the same port, dealt round-robin: a relay must reach its holder
      this.#server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve((this.#server.address() as net.AddressInfo).port));
    });
  }

  /** The relay ports of the live workers, by worker id (this one's included or not). */
  setPeers(ports: Readonly<Record<string, number>>): void {
    this.#peers = new Map(Object.entries(ports).map(([id, port]) => [Number(id), port]));
  }

  /** Does this link name another worker as its holder? */
  heldElsewhere(request: PatienceOp): boolean {
    return request.op !== 'invalid' && request.holder !== undefined && request.holder !== this.#store.holder;
  }

  /** Ask the holder and stream its answer to `f.res`; a holder that is gone answers 404. */
  forward(f: PatienceFetch): Promise<void> {
    const { exchange, res, request } = f;
    const port = request.op === 'invalid' || request.holder === undefined ? undefined : this.#peers.get(request.holder);
    if (request.op === 'invalid' || port === undefined) return answerPatience({ ...f, request: { op: 'invalid' } });
    const ask: RelayRequest = {
      op: request.op,
      token: request.token,
      id: exchange.id,
      clientIp: exchange.client.ip,
      scheme: exchange.scheme,
      host: exchange.host,
      port: exchange.port,
      path: exchange.path,
      target: f.target,
      ...(f.accept !== undefined ? { accept: f.accept } : {}),
    };
    return new Promise<void>((resolve) => {
      // a connection per relay (they are rare): no idle keep-alive socket to race the holder's close
      const upstream = http.request({ host: '127.0.0.1', port, path: RELAY_PATH, method: 'GET', agent: false, headers: { [SECRET_HEADER]: this.#secret.toString(), [REQUEST_HEADER]: relayValue(ask) } });
      // the client left: the holder sees its answer abandoned (a file fetch ends there, as at home)
      const abandon = () => upstream.destroy();
      res.once('close', abandon);
      upstream.once('error', () => {
        res.off('close', abandon);
        // not reached (the holder exited): its files went with it
        if (!res.headersSent && !res.destroyed) return void answerPatience({ ...f, request: { op: 'invalid' } }).then(resolve, resolve);
        res.destroy();
        resolve();
      });
      upstream.once('response', (answer) => {
        const file = adoptRecord(exchange, answer.headers[RELAY_RECORD]);
        exchange.status = answer.statusCode ?? 502;
        const headers: string[] = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) if (!HOP_HEADERS.has(answer.rawHeaders[i]!.toLowerCase())) headers.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
        res.writeHead(exchange.status, answer.statusMessage ?? '', headers);
        if (file) answer.on('data', (chunk: Buffer) => (exchange.responseBytes += chunk.length));
        // cut short by the holder: the client's download fails (Content-Length not reached), never ends complete
        answer.once('aborted', () => res.destroy());
        answer.once('end', () => {
          res.off('close', abandon);
          resolve();
        });
        answer.once('error', () => res.destroy());
        res.once('close', resolve);
        answer.pipe(res);
      });
      upstream.end();
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const secret = req.headers[SECRET_HEADER];
    const ask = req.method === 'GET' && req.url === RELAY_PATH && typeof secret === 'string' && this.#trusted(secret) ? parseRelayRequest(req.headers[REQUEST_HEADER]) : undefined;
    if (!ask) {
      res.writeHead(403, { 'content-length': '0', connection: 'close' }).end();
      return;
    }
    const exchange: Exchange = {
      id: ask.id,
      startTime: new Date(),
      startedAt: performance.now(),
      client: { ip: ask.clientIp, port: 0 },
      method: 'GET',
      scheme: ask.scheme,
      host: ask.host,
      port: ask.port,
      path: ask.path,
      intercepted: ask.scheme === 'https',
      requestBytes: 0,
      responseBytes: 0,
      decisions: [],
      verdicts: [],
    };
    answerPatience({ exchange, res, store: this.#store, request: { op: ask.op, token: ask.token }, target: ask.target, accept: ask.accept, relayed: true }).catch(() => res.destroy());
  }

  #trusted(secret: string): boolean {
    const given = Buffer.from(secret);
    return given.length === this.#secret.length && timingSafeEqual(given, this.#secret);
  }
}

/** A relay header's JSON (patience.ts relayValue). */
const decode = (header: string): unknown => JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));

/** The relay request header, or undefined when it is not one (missing, not JSON, a field of the wrong kind). */
function parseRelayRequest(header: string | string[] | undefined): RelayRequest | undefined {
  if (typeof header !== 'string') return undefined;
  let v: Partial<Record<keyof RelayRequest, unknown>>;
  try {
    v = decode(header) as typeof v;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const strings = [v.token, v.id, v.clientIp, v.host, v.path, v.target].every((s) => typeof s === 'string');
  if (!strings || (v.op !== 'status' && v.op !== 'file') || (v.scheme !== 'http' && v.scheme !== 'https') || !Number.isInteger(v.port)) return undefined;
  if (v.accept !== undefined && typeof v.accept !== 'string') return undefined;
  return v as RelayRequest;
}

/**
 * The holder's decisions and verdicts, into the relaying worker's exchange (its access line);
 * true when the answer is the held file (its bytes count as the exchange's, as at the holder).
 */
function adoptRecord(exchange: Exchange, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  try {
    const record = decode(header) as { decisions?: Decision[]; verdicts?: Verdict[]; file?: boolean };
    if (Array.isArray(record.decisions)) exchange.decisions.push(...record.decisions);
    if (Array.isArray(record.verdicts)) exchange.verdicts.push(...record.verdicts);
    return record.file === true;
  } catch {
    // a holder of this same build always sends JSON; without it the line only lacks the decision
    return false;
  }
}
