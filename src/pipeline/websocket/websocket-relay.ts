// The WebSocket relay after a 101 (RFC 6455): one direction handler per side — inspected (frames
// decoded, each message scanned before its original bytes go on) or raw (bytes as they come) —
// between the client and origin sockets. It reads a side's next chunk only once the last one was
// handled and written (backpressure both ways), and it alone closes the connection:
//   - a verdict block → Close 1008, a message too big → 1009, a malformed frame → 1002,
//     undecodable compressed data → 1007, a failed scan or a defect of ours → 1011, idle → 1001:
//     a Close frame to each side whose stream is at a frame boundary, then end, then destroy
//     after closeGraceMs
//   - one side ends or closes → the other is ended, then destroyed after the grace
// The promise resolves once both sockets are closed; it never rejects.
import type { Duplex } from 'node:stream';
import { ProxyError, toProxyError } from '../../core/errors.js';
import { encodeCloseFrame } from './frame-encoder.js';
import { InspectedDirection, type RelayControl } from './inspected-direction.js';
import { parseNegotiatedExtensions } from './permessage-deflate.js';
import { CloseCode } from './protocol-error.js';
import { RawDirection } from './raw-direction.js';
import type { DirectionCounts, MessageEvent, MessageVerdict, RelayDirection, WebSocketMessage } from './websocket-message.js';

export interface WebSocketRelayOptions {
  client: Duplex;
  /** bytes the client sent after its handshake (may hold frames) */
  clientHead: Buffer;
  origin: Duplex;
  /** bytes the origin sent after its 101 */
  originHead: Buffer;
  /** Sec-WebSocket-Extensions of the 101 response */
  extensions: string | undefined;
  inspect: { clientToServer: boolean; serverToClient: boolean };
  /** decompressed size over which a message takes the oversize action */
  maxMessageBytes: number;
  oversizeAction: 'block' | 'pass';
  /** no byte either way for this long (a scan in progress aside) → Close 1001 */
  idleTimeoutMs?: number;
  /** after the relay ends a socket, how long the peer has to close before it is destroyed; default 1000 */
  closeGraceMs?: number;
  scan(message: WebSocketMessage): Promise<MessageVerdict>;
  onMessage?(event: MessageEvent): void;
}

export interface RelayClose {
  code: number;
  reason: string;
  /** who sent the first Close frame (or, with 1006 and no Close frame, whose socket ended first) */
  by: 'proxy' | 'client' | 'server';
}

export interface RelayResult {
  clientToServer: DirectionCounts;
  serverToClient: DirectionCounts;
  /** bytes received from each side */
  bytes: { clientToServer: number; serverToClient: number };
  close: RelayClose;
  /** why the relay closed, when not for a verdict or an endpoint: a failed scan, a defect of ours, a peer's protocol error, a socket error */
  error: ProxyError | undefined;
}

interface Direction {
  readonly counts: DirectionCounts;
  readonly canSendClose: boolean;
  handle(chunk: Buffer): Promise<void>;
  release?(): void;
}

interface Side {
  name: 'client' | 'server';
  socket: Duplex;
  /** the direction that reads this side */
  reads: Direction;
  /** the direction that writes to this side */
  writes: Direction;
  closed: boolean;
}

export function relayWebSocket(options: WebSocketRelayOptions): Promise<RelayResult> {
  return new WebSocketRelay(options).done;
}

class WebSocketRelay implements RelayControl {
  readonly done: Promise<RelayResult>;
  private resolve!: (result: RelayResult) => void;
  private proxyClose: RelayClose | undefined;
  private endpointClose: RelayClose | undefined;
  private firstToEnd: 'client' | 'server' | undefined;
  private error: ProxyError | undefined;
  private readonly sides: [Side, Side];
  private graceTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = performance.now();
  private scansInProgress = 0;
  private readonly graceMs: number;

  constructor(private readonly options: WebSocketRelayOptions) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    this.graceMs = options.closeGraceMs ?? 1000;
    const negotiated = parseNegotiatedExtensions(options.extensions);
    const { deflate } = negotiated;
    const direction = (name: RelayDirection, inspect: boolean, to: () => Side, noContextTakeover: boolean): Direction => {
      const forward = (bytes: Buffer) => this.write(to().socket, bytes);
      if (!inspect) return new RawDirection(name, forward, (code, d) => this.onEndpointClose(code, d));
      const { maxMessageBytes, oversizeAction } = options;
      const scan = (message: WebSocketMessage) => options.scan(message);
      const onMessage = (event: MessageEvent) => options.onMessage?.(event);
      return new InspectedDirection({ direction: name, deflate: deflate && { noContextTakeover }, maxMessageBytes, oversizeAction, forward, scan, onMessage }, this);
    };
    const c2s = direction('client-to-server', options.inspect.clientToServer, () => this.sides[1], deflate?.clientNoContextTakeover ?? false);
    const s2c = direction('server-to-client', options.inspect.serverToClient, () => this.sides[0], deflate?.serverNoContextTakeover ?? false);
    this.sides = [
      { name: 'client', socket: options.client, reads: c2s, writes: s2c, closed: false },
      { name: 'server', socket: options.origin, reads: s2c, writes: c2s, closed: false },
    ];
    for (const side of this.sides) this.watch(side);
    // a socket gone before the relay started gets no 'close' event any more
    for (const side of this.sides) if (side.socket.closed) this.onClose(side);
    // An extension we cannot read would let its messages by unscanned (DESIGN invariant 2).
    if ((options.inspect.clientToServer || options.inspect.serverToClient) && negotiated.unsupported.length > 0) {
      this.closeWith(CloseCode.policyViolation, 'unsupported extension');
    }
    this.armIdle();
    void this.read(this.sides[0], options.clientHead);
    void this.read(this.sides[1], options.originHead);
  }

  get closing(): boolean {
    return this.proxyClose !== undefined || this.sides.some((s) => s.closed);
  }

  closeWith(code: number, reason: string, error?: ProxyError): void {
    if (this.proxyClose) return;
    this.proxyClose = { code, reason, by: 'proxy' };
    this.error ??= error;
    for (const side of this.sides) {
      const { socket } = side;
      // RFC 6455 §5.1: frames towards the server are masked; never a Close into the middle of a frame
      if (!side.closed && socket.writable && side.writes.canSendClose) socket.write(encodeCloseFrame(code, reason, side.name === 'server'));
      if (!side.closed) socket.end();
      // keep reading (and dropping) so that the peers' own close is seen
      socket.resume();
    }
    this.destroyAfterGrace();
  }

  onEndpointClose(code: number, direction: RelayDirection): void {
    this.endpointClose ??= { code, reason: '', by: direction === 'client-to-server' ? 'client' : 'server' };
  }

  async scanning(run: () => Promise<MessageVerdict>): Promise<MessageVerdict> {
    this.scansInProgress++;
    try {
      return await run();
    } finally {
      this.scansInProgress--;
      this.lastActivity = performance.now();
    }
  }

  private watch(side: Side): void {
    const { socket } = side;
    socket.on('error', (err: Error) => {
      if (!this.closing) this.error ??= new ProxyError(side.name === 'client' ? 'CLIENT_READ_FAILED' : 'UPSTREAM_READ_FAILED', `${side.name} socket: ${err.message}`, { cause: err });
    });
    socket.on('end', () => this.onEnd(side));
    socket.on('close', () => this.onClose(side));
  }

  /** Handle the head, then every chunk; the next chunk is read only once the last one is handled. */
  private async read(side: Side, head: Buffer): Promise<void> {
    const { socket } = side;
    if (head.length > 0) {
      socket.pause();
      await this.handle(side, head);
    }
    if (side.closed) return this.finishIfClosed();
    socket.on('data', (chunk: Buffer) => {
      if (this.proxyClose || side.closed) return;
      socket.pause();
      void this.handle(side, chunk).then(() => {
        if (!side.closed) socket.resume();
      });
    });
    socket.resume();
  }

  private async handle(side: Side, chunk: Buffer): Promise<void> {
    this.lastActivity = performance.now();
    side.reads.counts.bytesReceived += chunk.length;
    if (this.closing) return;
    try {
      await side.reads.handle(chunk);
    } catch (err) {
      // not a peer's fault: ours, and it fails closed (DESIGN invariant 7)
      this.closeWith(CloseCode.internalError, 'internal error', toProxyError(err, 'INTERNAL'));
    }
  }

  /** Write with backpressure: resolves once the socket takes more, or is gone. */
  private write(socket: Duplex, bytes: Buffer): Promise<void> {
    if (!socket.writable || socket.destroyed) return Promise.resolve();
    if (socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  private onEnd(side: Side): void {
    this.firstToEnd ??= side.name;
    const other = this.other(side);
    if (!other.closed) other.socket.end();
    this.destroyAfterGrace();
  }

  private onClose(side: Side): void {
    side.closed = true;
    this.firstToEnd ??= side.name;
    const other = this.other(side);
    if (!other.closed) {
      other.socket.end();
      this.destroyAfterGrace();
    }
    this.finishIfClosed();
  }

  private finishIfClosed(): void {
    if (!this.sides.every((s) => s.closed)) return;
    clearTimeout(this.graceTimer);
    clearTimeout(this.idleTimer);
    for (const side of this.sides) side.reads.release?.();
    const [client, server] = this.sides;
    this.resolve({
      clientToServer: client.reads.counts,
      serverToClient: server.reads.counts,
      bytes: { clientToServer: client.reads.counts.bytesReceived, serverToClient: server.reads.counts.bytesReceived },
      close: this.proxyClose ?? this.endpointClose ?? { code: CloseCode.abnormal, reason: '', by: this.firstToEnd ?? 'client' },
      error: this.error,
    });
  }

  private destroyAfterGrace(): void {
    this.graceTimer ??= setTimeout(() => {
      for (const side of this.sides) side.socket.destroy();
    }, this.graceMs);
  }

  private armIdle(): void {
    const limit = this.options.idleTimeoutMs;
    if (limit === undefined) return;
    const check = () => {
      const idle = performance.now() - this.lastActivity;
      if (this.scansInProgress === 0 && idle >= limit) return this.closeWith(CloseCode.goingAway, 'idle timeout');
      this.idleTimer = setTimeout(check, this.scansInProgress > 0 ? limit : limit - idle);
    };
    this.idleTimer = setTimeout(check, limit);
  }

  private other(side: Side): Side {
    return side === this.sides[0] ? this.sides[1] : this.sides[0];
  }
}
