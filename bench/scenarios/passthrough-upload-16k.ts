// dlp-proxy passing 16 KiB uploads unscanned (the bench's pass-everything policy): what the scanned
// upload rows are compared with ("scanned warm ≥ 0.8× our own passthrough").
import type { Scenario } from '../lib/types.js';

export default {
  name: 'passthrough-upload-16k',
  title: 'dlp-proxy passthrough, HTTP POST, 16 KiB',
  target: { kind: 'dlp-proxy' },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: true } },
  baseline: { direct: 'direct-upload-16k' },
} satisfies Scenario;
