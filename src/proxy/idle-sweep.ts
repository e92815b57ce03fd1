// Closes tunnels and intercepted connections that moved no byte either way for `idleMs`
// (proxy.tunnelIdleTimeoutMs; Squid's read_timeout on CONNECT, HAProxy's `timeout tunnel`).
// socket.setTimeout cannot serve: the HTTP server owns that timer on the sockets it reads
// (server.timeout = clientIdleTimeoutMs), and an upgraded connection is no longer read by it. One
// interval for all watched connections reads their byte counters instead, so relaying a chunk
// costs nothing extra. A connection is closed between idleMs and idleMs + 2 sweeps after its
// last byte.

interface Watched {
  bytes: () => number;
  close: () => void;
  seen: number;
  activeAt: number;
}

export class IdleSweep {
  readonly #idleMs: number;
  readonly #sweepMs: number;
  readonly #watched = new Set<Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
    // a quarter of the timeout, so the close comes at most half a timeout late, and at most a second
    this.#sweepMs = Math.max(10, Math.min(1000, Math.floor(idleMs / 4)));
  }

  /**
   * Watch one connection: `bytes` sums its counters (read and written), `close` ends both of its
   * sides. Returns the function that stops watching it (call it when the connection closes).
   */
  watch(bytes: () => number, close: () => void): () => void {
    const entry: Watched = { bytes, close, seen: bytes(), activeAt: Date.now() };
    this.#watched.add(entry);
    this.#timer ??= setInterval(() => this.#sweep(), this.#sweepMs).unref();
    return () => this.#unwatch(entry);
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#watched) {
      const bytes = entry.bytes();
      if (bytes !== entry.seen) {
        entry.seen = bytes;
        entry.activeAt = now;
      } else if (now - entry.activeAt >= this.#idleMs) {
        this.#unwatch(entry);
        entry.close();
      }
    }
  }

  #unwatch(entry: Watched): void {
    this.#watched.delete(entry);
    if (this.#watched.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
