// A direction the policy does not inspect: bytes pass as they come (the relay reads the next chunk
// only once this one is written), while a boundary tracker says whether a Close frame of the
// proxy may be written after them and which Close the sender sent.
import { FrameBoundaryTracker } from './frame-boundary-tracker.js';
import { emptyCounts, type RelayDirection } from './websocket-message.js';

export class RawDirection {
  readonly counts = emptyCounts();
  private readonly tracker = new FrameBoundaryTracker();
  private closeSeen = false;

  constructor(
    readonly direction: RelayDirection,
    private readonly forward: (bytes: Buffer) => Promise<void>,
    private readonly onEndpointClose: (code: number, direction: RelayDirection) => void,
  ) {}

  /** Nothing forwarded is cut mid-frame and the sender sent no Close: a Close of ours may follow. */
  get canSendClose(): boolean {
    return this.tracker.atFrameBoundary && !this.closeSeen;
  }

  async handle(chunk: Buffer): Promise<void> {
    for (const code of this.tracker.push(chunk)) {
      this.closeSeen = true;
      this.onEndpointClose(code, this.direction);
    }
    this.counts.bytesForwarded += chunk.length;
    await this.forward(chunk);
  }
}
