// The stage order for one exchange (policy → body → verdict → icap → enforce → upstream, then
// the same for the response), in exchange-pipeline.ts and nowhere else. Stages publish the
// lifecycle events of core/events.ts; they never call metrics or logs themselves.
export { ExchangePipeline, originForm } from './exchange-pipeline.js';
export type { PipelineOptions } from './exchange-pipeline.js';
export type { Page } from './respond.js';
export type { BodyScanner, ScanService } from './body-scan.js';
