// One REQMOD or RESPMOD exchange on one connection (RFC 3507 §4.8, §4.9), with preview (§4.5):
//
//   head + preview chunks + 0[; ieof] ──► 100 Continue ──► rest + 0 ──► final answer
//                                     └─► 204 / 200 (in preview: the rest is never sent)
//   without preview: head + every chunk + 0, read concurrently (a server may stream its answer)
//
// The connection goes back to the pool only when both directions finished cleanly; a final answer
// that completes while the request body is still being written forces the connection closed.
import { ProxyError } from '../core/errors.js';
import type { HeaderList, HttpHead, IcapResult } from '../core/types.js';
import { encodeChunk, encodeIcapRequest, encodeLastChunk } from './codec/index.js';
import type { BodySource } from './body-source.js';
import type { IcapConnection } from './connection.js';
import type { IcapOptions } from './icap-options.js';
import { peerFailure } from './peer-failure.js';
import { ResponseReader, type FinalAnswer } from './response-reader.js';

export interface TransactionInput {
  method: 'REQMOD' | 'RESPMOD';
  reqHead: HttpHead;
  resHead?: HttpHead | undefined;
  /** the body as a pull source (null = header-only); the caller keeps it to see what was consumed */
  source: BodySource | null;
  /** the body's bytes when held whole in RAM: a 200 that echoes them is recognised as it arrives */
  original?: readonly Buffer[] | undefined;
  bodyBytes?: number | undefined;
  allow204: boolean;
  /** preview size override; undefined = as negotiated, false = no preview */
  preview?: number | false | undefined;
  /** a body held whole in RAM (`original`) of at most this many bytes goes without preview */
  skipPreviewUpToBytes: number;
  /** identity and other extra ICAP headers */
  headers: HeaderList;
}

export interface TransactionTimeouts {
  previewTimeoutMs: number;
  readIdleTimeoutMs: number;
}

export interface TransactionOutcome {
  result: IcapResult;
  status: number;
  previewUsed: boolean;
  /** the server answered before it saw the whole body (a 204 or 200 within the preview) */
  answeredInPreview: boolean;
}

const MAX_CHUNK = 64 * 1024;
/** bytes of body gathered into one write at most */
const MAX_WRITE = 256 * 1024;

/** Run the exchange; `release(reuse)` is called once, when the connection is no longer needed. */
export async function runTransaction(
  conn: IcapConnection,
  options: IcapOptions,
  input: TransactionInput,
  timeouts: TransactionTimeouts,
  release: (reuse: boolean) => void,
): Promise<TransactionOutcome> {
  const source = input.source;
  let writeDone = false;
  let keepAlive = true;
  // While a preview awaits its answer, a final answer completes the message (RFC 3507 §4.5).
  let previewPending = false;
  let released = false;
  const maybeRelease = () => {
    if (released || !reader.ended || (!writeDone && !reader.failed)) return;
    released = true;
    release(keepAlive && writeDone && !reader.failed && !reader.closeRequested);
  };
  // The rest of the body is not needed once a 204 or 200 came; after an error answer the caller
  // may still rewind the body for another server, so it drains it (BodySource.rewind).
  const skipRest = () => {
    if (reader.status === 200 || reader.status === 204) source?.drain();
  };
  const reader = new ResponseReader(conn, () => {
    if (!writeDone && previewPending) {
      writeDone = true;
      skipRest();
    } else if (!writeDone) {
      // The server finished before our body did (RFC 3507 allows early answers): the rest of the
      // body would be read as a new request, so this connection must close.
      keepAlive = false;
      writeDone = true;
      skipRest();
    }
    maybeRelease();
  }, input.original);
  conn.attach(reader);

  // Socket failures arrive as ProxyErrors already (connection.ts) and the body's as
  // CLIENT_READ_FAILED (body-source.ts): what else is caught here is ours (INTERNAL).
  const fail = (err: unknown): ProxyError => {
    const e = peerFailure(err, 'ICAP_WRITE_FAILED', { server: conn.target.label });
    keepAlive = false;
    conn.destroy(e);
    if (!released) {
      released = true;
      release(false);
    }
    return e;
  };

  const preview = planPreview(options, input);
  const hasBody = source !== null;
  let head: Buffer;
  try {
    // The encoder refuses (TypeError) a head it cannot write; the connection must still go back.
    head = encodeIcapRequest({
      method: input.method,
      uri: conn.target.uri,
      headers: [...(input.allow204 ? ([['Allow', '204']] as HeaderList) : []), ...input.headers],
      reqHead: input.reqHead,
      ...(input.resHead ? { resHead: input.resHead } : {}),
      hasBody,
      ...(preview !== undefined ? { preview } : {}),
    });
  } catch (err) {
    throw fail(err);
  }

  // Everything the body source holds at the moment goes out in one write (one writev), and the
  // last chunk with the last data once the declared length is reached: a spooled 16 KiB body
  // after `100 Continue` is one syscall, not three (rest, then `0\r\n\r\n` alone).
  const sendRest = async (prefix: Buffer[] = []): Promise<void> => {
    const body = source!;
    let first = prefix;
    for (;;) {
      conn.relax();
      const data = await body.read(MAX_CHUNK);
      if (reader.ended || reader.failed) return;
      conn.expect(timeouts.readIdleTimeoutMs, 'ICAP_READ_TIMEOUT', 'sending body');
      if (data === null) {
        await conn.write([...first, encodeLastChunk()]);
        break;
      }
      const wire = [...first, ...encodeChunk(data)];
      const sent = [data];
      first = [];
      for (let bytes = data.length, more: Buffer | null; bytes < MAX_WRITE && (more = body.readReady(MAX_CHUNK)) !== null; bytes += more.length) {
        wire.push(...encodeChunk(more));
        sent.push(more);
      }
      // RFC 3507 §4.4.1 frames the body by chunks; HTTP/1.1 framing made the declared length exact.
      const last = input.bodyBytes !== undefined && body.consumed >= input.bodyBytes;
      if (last) wire.push(encodeLastChunk());
      await conn.write(wire);
      // The socket took these bytes (conn.write resolves after the write callback): the source
      // may fill the buffers again.
      for (const chunk of sent) body.recycle(chunk);
      if (last) break;
    }
    writeDone = true;
    conn.expect(timeouts.readIdleTimeoutMs, 'ICAP_READ_TIMEOUT', 'awaiting answer');
    maybeRelease();
  };

  let answer: FinalAnswer;
  let answeredInPreview = false;
  try {
    if (!source) {
      await conn.write([head]);
      writeDone = true;
      conn.expect(timeouts.readIdleTimeoutMs, 'ICAP_READ_TIMEOUT', 'awaiting answer');
      answer = await reader.answer();
    } else if (preview !== undefined) {
      const first: Buffer[] = [];
      let got = 0;
      while (got < preview) {
        const data = await source.read(preview - got);
        if (data === null) break;
        first.push(data);
        got += data.length;
      }
      const ieof = (input.bodyBytes !== undefined && got >= input.bodyBytes) || (await source.atEnd());
      await conn.write([head, ...first.flatMap((d) => encodeChunk(d)), encodeLastChunk(ieof)]);
      if (ieof) writeDone = true;
      else previewPending = true;
      conn.expect(ieof ? timeouts.readIdleTimeoutMs : timeouts.previewTimeoutMs, ieof ? 'ICAP_READ_TIMEOUT' : 'ICAP_PREVIEW_TIMEOUT', 'preview answer');
      const next = ieof ? 'final' : await reader.awaitPreviewAnswer();
      answeredInPreview = next !== 'continue' && !ieof;
      previewPending = false;
      if (next === 'continue') {
        sendRest().catch((err) => reader.onError(fail(err)));
      } else if (!writeDone) {
        // Answered within the preview: the message ends here (§4.5), the rest is never sent.
        writeDone = true;
        skipRest();
      }
      answer = await reader.answer();
    } else {
      // The head goes out with the first body bytes.
      sendRest([head]).catch((err) => reader.onError(fail(err)));
      answer = await reader.answer();
    }
  } catch (err) {
    throw reader.failed ?? fail(err);
  }

  maybeRelease();
  const result = toResult(answer, conn, reader);
  return { result, status: answer.head.status, previewUsed: preview !== undefined, answeredInPreview };
}

function planPreview(options: IcapOptions, input: TransactionInput): number | undefined {
  if (!input.source || input.preview === false) return undefined;
  // Without the ability to replay, a 204 after a preview would lose the bytes already read.
  if (!input.allow204) return undefined;
  if (input.preview !== undefined) return input.preview;
  // every byte is here: a preview would only add the 100 Continue round trip (RFC 3507 §4.5 leaves it to the client)
  if (input.original && input.bodyBytes !== undefined && input.bodyBytes <= input.skipPreviewUpToBytes) return undefined;
  if (options.preview === undefined || options.transferFor(input.reqHead.target) === 'complete') return undefined;
  return options.preview;
}

function toResult(answer: FinalAnswer, conn: IcapConnection, reader: ResponseReader): IcapResult {
  const { head } = answer;
  const istag = head.headers.get('istag') ?? '';
  const details = { server: conn.target.label, status: head.status, reason: head.reason };
  if (head.status === 204) {
    reader.discard();
    return { kind: 'unmodified', istag, headers: head.headers };
  }
  if (head.status === 200) {
    const http = answer.http.at(-1);
    if (!http) {
      reader.discard();
      throw new ProxyError('ICAP_PROTOCOL_ERROR', `ICAP server ${conn.target.label} answered 200 without an encapsulated HTTP message`, { details });
    }
    return { kind: 'modified', istag, headers: head.headers, head: http, body: answer.body, echo: answer.echo };
  }
  reader.discard();
  if (head.status === 503) throw new ProxyError('ICAP_OVERLOADED', `ICAP server ${conn.target.label} is overloaded (503 ${head.reason})`, { details });
  if (head.status === 405 || head.status === 501) {
    throw new ProxyError('ICAP_METHOD_NOT_SUPPORTED', `ICAP server ${conn.target.label} refused the method (${head.status} ${head.reason})`, { details });
  }
  if (head.status >= 400) throw new ProxyError('ICAP_SERVER_ERROR', `ICAP server ${conn.target.label} answered ${head.status} ${head.reason}`, { details });
  throw new ProxyError('ICAP_PROTOCOL_ERROR', `ICAP server ${conn.target.label} answered an unexpected ${head.status} ${head.reason}`, { details });
}
