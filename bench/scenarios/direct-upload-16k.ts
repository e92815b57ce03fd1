// The ceiling for uploads: 16 KiB text POSTs straight to the origin, which reads each and answers.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'direct-upload-16k',
  title: 'direct to origin, HTTP POST, 16 KiB',
  target: { kind: 'direct' },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: true } },
} satisfies Scenario;
