// Timings for tests that rule out a cost by comparing two runs in the same test (a ratio), not by
// a wall-clock bound that a loaded CI machine can break.

/** How long `fn` took, in milliseconds. */
export async function timedMs(fn: () => unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** The fastest of `rounds` runs of `fn`: a shared machine's pauses only ever add time. */
export async function fastestMs(rounds: number, fn: () => unknown): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) best = Math.min(best, await timedMs(fn));
  return best;
}
