// Start dlp-proxy (bench/lib/proxy-child.mjs) for one scenario: the bench's base config (one
// process: `workers: 1`, which proxy-child.mjs honours by being startApp alone; port 0,
// the run's CA, the admin listener on a free port as a deployment has it (its /metrics counts ICAP
// transactions), the incident store in the run's directory, no built-in ICAP server, a
// pass-everything policy, the origin CA trusted upstream) with the scenario's own document merged
// over it, written as YAML.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { CertificateAuthority } from '../../src/ca/index.js';
import { forkChild, repoRoot, type NodeChild } from './children.js';
import type { ConfigDoc } from './types.js';

export interface ProxyReady {
  port: number;
  /** The admin listener (metrics), on a free port. */
  adminPort: number;
}

export interface ProxyProcess extends NodeChild<ProxyReady> {
  port: number;
  adminPort: number;
  logFile: string;
}

export interface ProxyRunFiles {
  /** The run's dlp-proxy CA directory (made once per run by prepareProxyCa). */
  caDir: string;
  originCaFile: string;
  /** Where the scenario's YAML and logs go. */
  workDir: string;
}

export function baseConfig(files: ProxyRunFiles): ConfigDoc {
  return {
    workers: 1,
    proxy: { host: '127.0.0.1', port: 0 },
    ca: { dir: files.caDir },
    // in the run's directory, removed with it (the default, incidents/, is the checkout's)
    incidents: { dir: path.join(files.workDir, 'incidents') },
    icapServer: { enabled: false },
    admin: { enabled: true, host: '127.0.0.1', port: 0 },
    upstream: { extraCaFiles: [files.originCaFile] },
    services: {},
    policy: [{ name: 'bench-pass', action: 'pass' }],
    log: { level: 'info', format: 'json' },
  };
}

export function mergeConfig(base: ConfigDoc, over: ConfigDoc): ConfigDoc {
  const out: ConfigDoc = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = base[key];
    const bothObjects = value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object' && !Array.isArray(prior);
    out[key] = bothObjects ? mergeConfig(prior as ConfigDoc, value as ConfigDoc) : value;
  }
  return out;
}

/** Make the run's CA before any proxy starts, so no scenario pays for the RSA key generation. */
export async function prepareProxyCa(caDir: string): Promise<string> {
  await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 397, certCacheSize: 10 });
  return fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8');
}

let built = false;

/** The proxy runs from dist/, as `npm start` runs it: build once per bench process. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

export async function startDlpProxy(name: string, files: ProxyRunFiles, over: ConfigDoc, execArgv: string[] = []): Promise<ProxyProcess> {
  ensureBuilt();
  const configFile = path.join(files.workDir, `${name}.yaml`);
  const logFile = path.join(files.workDir, `${name}.log`);
  fs.writeFileSync(configFile, YAML.stringify(mergeConfig(baseConfig(files), over)));
  const child = await forkChild<ProxyReady>(`dlp-proxy (${name})`, fileURLToPath(new URL('./proxy-child.mjs', import.meta.url)), [configFile, logFile], {
    execArgv: [...execArgv, ...(process.env.BENCH_PROXY_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])],
    stdoutFile: process.env.BENCH_PROXY_STDOUT ?? path.join(files.workDir, `${name}.stdout`),
  });
  return Object.assign(child, { port: child.ready.port, adminPort: child.ready.adminPort, logFile });
}
