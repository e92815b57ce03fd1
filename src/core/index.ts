// Vocabulary used by three or more modules: errors with stable codes, host validation, and the
// exchange/decision/verdict types of DESIGN.md. Imports nothing from the rest of src/.
export * from './errors.js';
export * from './host.js';
export type * from './types.js';
export * from './headers.js';
export type * from './exchange.js';
export * from './events.js';
export * from './raw-response.js';
