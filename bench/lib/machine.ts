// The machine's facts printed with every result: numbers from one box only compare with numbers
// from the same box.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { repoRoot } from './children.js';
import { squidVersion } from '../../test/support/peers/squid.js';

export interface MachineFacts {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  platform: string;
  squid: string;
  /** The commit measured, with "+ uncommitted changes" when src/ differs from it. */
  revision: string;
  /** 1-minute load average when the run started: above the core count, other work shares the machine. */
  loadAverage: number;
}

function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

export function machineFacts(now = new Date()): MachineFacts {
  const cpus = os.cpus();
  return {
    date: now.toISOString(),
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: os.release(),
    platform: `${os.platform()} ${os.arch()}`,
    squid: squidVersion(),
    revision: revision(),
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}
