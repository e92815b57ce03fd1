// Body spool: holds a request or response body while it is scanned, in RAM up to a threshold and
// then in a 0600 temp file that vanishes with its descriptor; hashes it (SHA-256) as it streams in;
// can be followed while still being written and replayed (whole or a byte range) any number of
// times once complete; feedSpool() fills it up to a cap without losing the bytes past it.
// Process-wide gauges via spoolStats(); spill/release events on diagnostics_channel 'dlp-proxy:spool'.
export { ramBytes, Spool, type SpoolOptions, type SpooledBody } from './spool.js';
export { holdChunks, holdWhole } from './hold-whole.js';
export { feedSpool, overflowStream, type Overflow } from './feed-spool.js';
export { spoolStats, spoolChannel, type SpoolEvent, type SpoolStats } from './spool-stats.js';
