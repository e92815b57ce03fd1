// Connections at once per client address (proxy.maxConnectionsPerClient), counting plain HTTP
// and CONNECT sockets; the decrypted socket of an intercepted CONNECT is the same connection and
// is not counted again. Over the cap a connection is still read, so that its request can be
// answered 429 (RFC 6585 §4) instead of a bare reset; from twice the cap it is closed unread:
// reading a head costs a parser and up to maxHeaderBytes, and a flood must not buy that.

/** What to do with a newly accepted connection. */
export type Admission = 'accept' | 'refuse' | 'drop';

export class ClientConnectionCap {
  readonly #max: number;
  readonly #counts = new Map<string, number>();

  constructor(maxPerClient: number) {
    this.#max = maxPerClient;
  }

  /** Count one more connection of `ip`; every call is paired with one `close(ip)`. */
  open(ip: string): Admission {
    const count = (this.#counts.get(ip) ?? 0) + 1;
    this.#counts.set(ip, count);
    if (count <= this.#max) return 'accept';
    return count <= 2 * this.#max ? 'refuse' : 'drop';
  }

  close(ip: string): void {
    const count = (this.#counts.get(ip) ?? 0) - 1;
    if (count > 0) this.#counts.set(ip, count);
    else this.#counts.delete(ip);
  }
}
