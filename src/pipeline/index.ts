// The stage order for one exchange (policy → body → verdict → icap → enforce → upstream, then
// the same for the response), as the explicit states of exchange-machine.ts and nowhere else;
// exchange-pipeline.ts drives them over sockets. Every way in — plain, intercepted, WebSocket,
// CONNECT — is decided there. Stages publish the lifecycle events of core/events.ts; they never
// call metrics or logs themselves.
export { ExchangePipeline } from './exchange-pipeline.js';
export type { ConnectDecision, PipelineOptions } from './exchange-pipeline.js';
export { ExchangeMachine } from './exchange-machine.js';
export { Delivery } from './delivery.js';
export { originForm } from './message-heads.js';
export type { Page } from './respond.js';
export type { BodyScanner, ScanService } from './body-scan.js';
