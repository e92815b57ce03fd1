// `delivery: { mode: trickle }` on the driver's side: while a download is scanned, its head and
// then its first bytes go to the client slowly, so a client with a read timeout (or a person
// watching a stalled download) sees progress.
//
//   scan starts ─► waiting ─(trickleMinBytes received, no verdict)─► head sent ─► releasing
//     releasing: every TICK_MS, up to bytesPerSecond × elapsed, never past received − holdBytes
//     verdict ─► frozen ─┬─ pass ───────────────► the rest from where it stopped (finishTrickle)
//                        └─ block/replace/error ─► connection destroyed (cutTrickle)
//
// A cut leaves a Content-Length short or a chunked body without its last chunk (RFC 9112 §6.3,
// §7.1): every HTTP client sees a failed download, never a complete file, and the last holdBytes
// of the original never left. A verdict before the head went out is answered as with hold.
import type http from 'node:http';
import { Readable } from 'node:stream';
import type { Spool } from '../body/index.js';
import { scanBody, type BodyScanner, type BodyToScan, type ScanOutcome } from './body-scan.js';
import type { TricklePlan } from './delivery.js';
import type { BodyRef } from './exchange-protocol.js';

const TICK_MS = 100;

export class Trickle {
  readonly #res: http.ServerResponse;
  readonly #plan: TricklePlan;
  readonly #count: (n: number) => void;
  #spool: Spool | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reader: Readable | undefined;
  #startedAt = 0;
  #sent = 0;
  #started = false;
  #frozen = false;

  constructor(res: http.ServerResponse, plan: TricklePlan, count: (n: number) => void) {
    this.#res = res;
    this.#plan = plan;
    this.#count = count;
  }

  /** The head went out: from now on the answer can only be the rest or a cut. */
  get started(): boolean {
    return this.#started;
  }

  /** Bytes of the body written to the client. */
  get sentBytes(): number {
    return this.#sent;
  }

  /** Follow the scan's spool; called once the spool exists. */
  attach(spool: Spool): void {
    if (this.#frozen) return;
    this.#spool = spool;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#res.once('close', () => this.freeze());
    this.#res.on('drain', () => this.#reader?.resume());
  }

  /** The verdict is known (or the scan failed): release nothing more. Says whether the head went out. */
  freeze(): boolean {
    this.#frozen = true;
    clearInterval(this.#timer);
    this.#reader?.destroy();
    this.#reader = undefined;
    return this.#started;
  }

  /** After a pass: the rest of the body, from the first byte not yet sent. */
  finish(rest: Readable): void {
    this.freeze();
    rest.on('data', (chunk: Buffer) => this.#count(chunk.length));
    rest.once('error', () => this.#res.destroy());
    rest.pipe(this.#res);
  }

  /** After a block: the client must not get a complete file. */
  cut(): void {
    this.freeze();
    this.#res.destroy();
  }

  #tick(): void {
    const spool = this.#spool!;
    const res = this.#res;
    if (this.#frozen || res.destroyed) return;
    if (!this.#started) {
      if (spool.size < this.#plan.minBytes) return;
      res.writeHead(this.#plan.status, this.#plan.reason, this.#plan.headers);
      res.flushHeaders();
      this.#started = true;
      this.#startedAt = performance.now();
    }
    if (this.#reader || res.writableNeedDrain) return;
    // one tick's worth at once, so the first bytes follow the head without waiting a tick
    const allowance = Math.floor((this.#plan.bytesPerSecond * (performance.now() - this.#startedAt + TICK_MS)) / 1000);
    // `size`: bytes received; `stored`: bytes a reader can read now (a file-backed spool writes in stages)
    const limit = Math.min(spool.size - this.#plan.holdBytes, spool.stored, allowance);
    if (limit <= this.#sent || spool.failure) return;
    const reader = spool.follow(this.#sent, limit);
    this.#reader = reader;
    reader.on('data', (chunk: Buffer) => {
      this.#sent += chunk.length;
      this.#count(chunk.length);
      if (!res.write(chunk)) reader.pause();
    });
    const done = () => {
      if (this.#reader === reader) this.#reader = undefined;
    };
    reader.once('end', done);
    reader.once('error', done);
    reader.once('close', done);
  }
}

/** Trickles by the response they write to, for the commands that end them. */
const running = new WeakMap<http.ServerResponse, Trickle>();

/**
 * Stages 2-5 for a download (scanBody), trickling it to `res` while it runs when `plan` says so.
 * `trickled`: the head went out, so the machine must finish or cut rather than answer.
 */
export async function scanTrickled(
  scanner: BodyScanner,
  input: BodyToScan,
  plan: TricklePlan | undefined,
  res: http.ServerResponse,
  count: (n: number) => void,
): Promise<{ outcome: ScanOutcome; trickled: boolean }> {
  if (!plan) return { outcome: await scanBody(scanner, input), trickled: false };
  const trickle = new Trickle(res, plan, count);
  try {
    const outcome = await scanBody(scanner, { ...input, watch: trickle });
    if (trickle.freeze()) running.set(res, trickle);
    return { outcome, trickled: trickle.started };
  } finally {
    trickle.freeze();
  }
}

/** A pass after the head went out: the rest of `body` from where the trickle stopped. */
export async function finishTrickle(res: http.ServerResponse, body: BodyRef): Promise<void> {
  const trickle = running.get(res)!;
  running.delete(res);
  const from = trickle.sentBytes;
  if (body.kind === 'held') return trickle.finish(body.body.replay(from));
  if (body.kind === 'overflow') {
    // oversizeAction: pass — what the spool holds from `from`, the chunk that overflowed, the rest unscanned
    const { spool, overflow } = body;
    spool.end();
    const prefix = await spool.done;
    const parts = async function* () {
      try {
        yield* prefix.replay(from);
        yield overflow.chunk;
        yield* overflow.rest;
      } finally {
        await prefix.dispose();
      }
    };
    return trickle.finish(Readable.from(parts(), { objectMode: false }));
  }
  trickle.cut(); // the machine sends on only held or overflowing originals after a trickle
}

/** A block (or a replacement, or a failure) after the head went out: destroy the connection. */
export function cutTrickle(res: http.ServerResponse): void {
  const trickle = running.get(res);
  running.delete(res);
  if (trickle) trickle.cut();
  else res.destroy();
}
