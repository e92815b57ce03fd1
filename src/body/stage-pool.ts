// Staging buffers for spools on disk. A body past spoolMemoryBytes arrives in socket-sized chunks
// (64 KiB); writing each to the temp file took one write per chunk and kept the chunk alive for
// the asynchronous write. A spool copies each chunk into a stage instead, lets the chunk go at
// once, and writes the stage when it is full: one write per STAGE_BYTES instead of one per chunk.
// (The socket's chunks are still new buffers, freed when V8 next collects: bench/results/scan-path.md.)
//
// Stages are kept for the next spool (up to MAX_IDLE_STAGES). Only the spool writes a stage and
// only the temp file reads it (from byte 0 to what this spool copied): no reader ever gets a view
// of it, so what a previous body left in it is never seen (test/unit/body/stage-pool.test.ts).
export const STAGE_BYTES = 256 * 1024;
const MAX_IDLE_STAGES = 8;

const idle: Buffer[] = [];

export function takeStage(): Buffer {
  return idle.pop() ?? Buffer.allocUnsafeSlow(STAGE_BYTES);
}

/** Give a stage back once nothing (no pending file write) uses it any more. */
export function returnStage(stage: Buffer): void {
  if (idle.length < MAX_IDLE_STAGES && !idle.includes(stage)) idle.push(stage);
}

/** Stages kept for reuse (for tests). */
export function idleStages(): number {
  return idle.length;
}
