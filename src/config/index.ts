// Configuration: one zod schema (validation + the Config type), loaded from YAML once at start
// and frozen. Each module receives only its slice from app.ts.
export { configSchema, isCidr, isLoopback } from './schema.js';
export type { Config, ConfigInput, ServiceConfig, PolicyRule, RuleMatch } from './schema.js';
export { ConfigError, DEFAULT_CONFIG_FILE, formatPath, loadConfig, packageRoot, parseConfig, parseConfigText, resolveConfigFile } from './load.js';
export type { ConfigIssue, LoadOptions } from './load.js';
