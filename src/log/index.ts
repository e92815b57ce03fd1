// Logging: the pino root logger (JSON, or readable on a TTY) and the subscribers that turn
// pipeline events into access, error and violation lines. Never a body, never a secret.
export { createLogger } from './logger.js';
export type { LogOptions } from './logger.js';
export { subscribeAccessLog, type AccessLogOptions } from './access-log.js';
export { subscribeViolationLog } from './violation-log.js';
export { isViolation, violationFields, type ViolationFields } from './violation-fields.js';
export { subscribeIcapLog } from './icap-log.js';
