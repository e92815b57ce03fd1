// Process-wide spool gauges (read by metrics on scrape) and the 'dlp-proxy:spool' channel, which
// reports the rare events an operator wants to see: a body moving to disk, a spool released.
import diagnostics_channel from 'node:diagnostics_channel';

export interface SpoolStats {
  /** spools not yet released */
  spools: number;
  memoryBytes: number;
  diskBytes: number;
  /** temp files currently open */
  files: number;
}

export type SpoolEvent =
  | { type: 'spill'; sizeBytes: number }
  | { type: 'release'; sizeBytes: number; onDisk: boolean; completed: boolean };

export const spoolChannel = diagnostics_channel.channel('dlp-proxy:spool');

export const gauges: SpoolStats = { spools: 0, memoryBytes: 0, diskBytes: 0, files: 0 };

/** A snapshot of the process-wide gauges. */
export function spoolStats(): SpoolStats {
  return { ...gauges };
}

export function publish(event: SpoolEvent): void {
  if (spoolChannel.hasSubscribers) spoolChannel.publish(event);
}
