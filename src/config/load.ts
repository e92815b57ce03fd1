// Load (file + env + flags), validate once, freeze. Every error names its path
// (`services.dlp.urls[0]: scheme must be icap or icaps`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { z } from 'zod';
import { ProxyError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';

/** The package root (the folder that holds config/default.yaml), from src/ or dist/src/. */
export const packageRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
})();

export const DEFAULT_CONFIG_FILE = path.join(packageRoot, 'config', 'default.yaml');

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends ProxyError {
  readonly issues: ConfigIssue[];
  constructor(source: string, issues: ConfigIssue[]) {
    super('CONFIG_INVALID', `${source}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** `services.dlp.urls[0]` from ['services', 'dlp', 'urls', 0]. */
export function formatPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

function issuesOf(error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_union') {
      // A union of shorthand and full form: report the most specific branch's first issue.
      const branch = issue.errors.flat()[0];
      out.push({ path: formatPath([...issue.path, ...(branch?.path ?? [])]), message: branch?.message ?? issue.message });
    } else {
      out.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return out;
}

/** Validate a parsed document; throws ConfigError listing every issue. */
export function parseConfig(doc: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(doc ?? {});
  if (!result.success) throw new ConfigError(source, issuesOf(result.error));
  return deepFreeze(result.data);
}

/** Read YAML text strictly (duplicate keys are errors) and validate it. */
export function parseConfigText(text: string, source = 'config'): Config {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return parseConfig(doc.toJS(), source);
}

export interface LoadOptions {
  /** --config FILE */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The config file in force: --config, else DLP_PROXY_CONFIG, else config/default.yaml. */
export function resolveConfigFile(options: LoadOptions = {}): string {
  const env = options.env ?? process.env;
  return path.resolve(options.file ?? env.DLP_PROXY_CONFIG ?? DEFAULT_CONFIG_FILE);
}

export function loadConfig(options: LoadOptions = {}): { config: Config; file: string } {
  const file = resolveConfigFile(options);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return { config: parseConfigText(text, file), file };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
