// The verdict events a synchronous step publishes (src/core/events.ts), for tests that drive a
// machine by hand and assert on what an operator's log and metrics would be told.
import { events, type VerdictEvent } from '../../src/core/events.js';

/** Every verdict event published while `fn` runs; the subscription ends even when it throws. */
export function verdictsDuring(fn: () => void): VerdictEvent[] {
  const seen: VerdictEvent[] = [];
  const off = events.verdict.subscribe((e) => seen.push(e));
  try {
    fn();
  } finally {
    off();
  }
  return seen;
}
