// ClamAV's daemon as the AV back-end of the built-in service (clamd(8), "zINSTREAM"): each file of
// a body is streamed to clamd in length-prefixed chunks as it arrives, with backpressure, and
// clamd's answer (`stream: OK`, `stream: <signature> FOUND`) becomes a malware finding. clamd
// unpacks what it knows itself; past `maxStreamBytes` (keep it at or under clamd's
// StreamMaxLength) the stream ends and clamd judges the part it has. `zVERSION` gives the engine
// and signature database versions: the service's ISTag follows the latter (RFC 3507 §4.7).
// clamd failing (refused, timed out, an ERROR answer) is an error of the scan, never a clean file.
import net from 'node:net';
import { ProxyError } from '../../core/errors.js';
import type { ByteSink } from '../decode/byte-sink.js';

export interface ClamdOptions {
  /** UNIX socket path (clamd.conf LocalSocket), or host and port (TCPAddr, TCPSocket). */
  socket?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  timeoutMs: number;
  maxStreamBytes: number;
  /** How often zVERSION is asked for the signature version the av service's ISTag follows. */
  versionPollMs: number;
}

/** One file's scan: write its bytes, then verdict() names the signature found, if any. */
export interface ClamdScan extends ByteSink {
  verdict(): Promise<string | undefined>;
}

const LENGTH_BYTES = 4;

export class ClamdClient {
  constructor(private readonly options: ClamdOptions) {}

  private connect(): net.Socket {
    const { socket, host, port, timeoutMs } = this.options;
    const conn = socket !== undefined ? net.connect(socket) : net.connect(port ?? 3310, host ?? '127.0.0.1');
    conn.setTimeout(timeoutMs, () => conn.destroy(new ProxyError('SCAN_UNSCANNABLE', `clamd did not answer within ${timeoutMs} ms`)));
    return conn;
  }

  /** The whole answer to a z-command (NUL-terminated). */
  private reply(conn: net.Socket): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      conn.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const end = text.indexOf('\u0000');
        if (end >= 0) {
          conn.end();
          resolve(text.slice(0, end));
        }
      });
      conn.once('error', (err) => reject(new ProxyError('SCAN_UNSCANNABLE', `clamd: ${err.message}`, { cause: err })));
      conn.once('close', () => reject(new ProxyError('SCAN_UNSCANNABLE', `clamd closed the connection: ${text || 'no answer'}`)));
    });
  }

  /** `ClamAV 1.0.7/27480/Thu Dec  3 09:38:02 2026`: engine, then signature database version and date. */
  async version(): Promise<string> {
    const conn = this.connect();
    const answer = this.reply(conn);
    conn.write('zVERSION\u0000');
    return answer;
  }

  scan(): ClamdScan {
    const conn = this.connect();
    const answer = this.reply(conn);
    // A failed scan is reported by verdict(); until then the rejection must not go unheard.
    answer.catch(() => undefined);
    conn.write('zINSTREAM\u0000');
    let sent = 0;
    let ended = false;
    const limit = this.options.maxStreamBytes;
    const send = async (data: Buffer) => {
      if (conn.destroyed) return;
      const length = Buffer.alloc(LENGTH_BYTES);
      length.writeUInt32BE(data.length);
      const flushed = conn.write(Buffer.concat([length, data]));
      if (!flushed && !conn.destroyed) await new Promise<void>((resolve) => {
        conn.once('drain', resolve);
        conn.once('close', resolve);
      });
    };
    const finish = async () => {
      if (ended) return;
      ended = true;
      if (!conn.destroyed) conn.write(Buffer.alloc(LENGTH_BYTES));
    };
    return {
      async write(chunk) {
        if (ended) return;
        const room = limit - sent;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        sent += part.length;
        if (part.length > 0) await send(part);
        if (sent >= limit) await finish();
      },
      end: finish,
      async verdict() {
        await finish();
        const text = await answer;
        const found = /^stream: (.+) FOUND$/.exec(text);
        if (found) return found[1];
        if (text === 'stream: OK') return undefined;
        throw new ProxyError('SCAN_UNSCANNABLE', `clamd: ${text}`);
      },
    };
  }
}

/** The signature database version in a VERSION answer (the part of the ISTag that follows clamd). */
export function signatureVersion(version: string): string {
  return version.split('/')[1] ?? version;
}

/**
 * clamd's signature version, asked every `versionPollMs` (freshclam swaps the databases under a
 * running clamd, so its answers change while ours would not). `onChange` runs when a poll finds a
 * version other than the last one known; a poll that fails keeps the last one (clamd restarting
 * is no signature update, and the scans themselves fail while it is away).
 */
export class ClamdSignatureWatch {
  #version: string | undefined;
  #polling: Promise<string | undefined> | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly client: ClamdClient,
    intervalMs: number,
    private readonly onChange: (version: string) => void,
  ) {
    this.#timer = setInterval(() => void this.poll(), intervalMs);
    this.#timer.unref();
  }

  /** The last signature version known; undefined until clamd first answered. */
  get version(): string | undefined {
    return this.#version;
  }

  /** Ask now (one question at a time); resolves with the version in force afterwards. */
  poll(): Promise<string | undefined> {
    this.#polling ??= this.client
      .version()
      .then(
        (answer) => {
          const version = signatureVersion(answer);
          if (version !== this.#version) {
            this.#version = version;
            this.onChange(version);
          }
          return version;
        },
        () => this.#version,
      )
      .finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
