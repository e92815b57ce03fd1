// Resource use of a process and its descendants, read from /proc (Linux): resident set now and at
// its peak (VmRSS, VmHWM in /proc/PID/status) and CPU time (utime + stime in /proc/PID/stat).
// A sampler polls the tree while a scenario runs, so a peak between samples of a helper process
// is missed but the main process's own VmHWM is exact.
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

export interface ProcSnapshot {
  rssBytes: number;
  hwmBytes: number;
  cpuSeconds: number;
  /** the part of cpuSeconds spent in the kernel (stime): system calls, the network stack */
  systemSeconds: number;
}

function readStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Fields of /proc/PID/stat after the command name (which may contain spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime and stime in seconds. */
function cpuOf(pid: number): { user: number; system: number } {
  const f = statFields(pid);
  // After the name: state(0) ppid(1) ... utime(11) stime(12)
  return f ? { user: Number(f[11]) / TICKS_PER_SECOND, system: Number(f[12]) / TICKS_PER_SECOND } : { user: 0, system: 0 };
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 10_000) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/** The tree's summed RSS and CPU, and the main process's own peak RSS. */
export function snapshot(pid: number, tree = processTree(pid)): ProcSnapshot {
  let rssBytes = 0;
  let cpuSeconds = 0;
  let systemSeconds = 0;
  for (const p of tree) {
    rssBytes += readStatus(p)?.rss ?? 0;
    const cpu = cpuOf(p);
    cpuSeconds += cpu.user + cpu.system;
    systemSeconds += cpu.system;
  }
  return { rssBytes, hwmBytes: readStatus(pid)?.hwm ?? 0, cpuSeconds, systemSeconds };
}

export interface SampledUsage {
  /** The tree's RSS when sampling began (the idle proxy, for a transfer). */
  rssStartBytes: number;
  rssPeakBytes: number;
  cpuSeconds: number;
  systemSeconds: number;
  samples: Array<{ atMs: number; rssBytes: number }>;
}

/** Polls a process tree every `intervalMs` until stopped; CPU is the difference over the window. */
export class ProcSampler {
  /** the tree's CPU when sampling began */
  private readonly start: ProcSnapshot;
  private readonly started = Date.now();
  private peak = 0;
  private readonly first: number;
  private tree: number[];
  private readonly timer: NodeJS.Timeout;
  readonly samples: Array<{ atMs: number; rssBytes: number }> = [];

  constructor(
    private readonly pid: number,
    intervalMs = 100,
    private readonly keepSamples = false,
  ) {
    this.tree = processTree(pid);
    this.start = snapshot(pid, this.tree);
    this.first = this.sample().rssBytes;
    let ticks = 0;
    this.timer = setInterval(() => {
      // helpers come and go (squid's certificate generators): re-read the tree now and then
      if (++ticks % 10 === 0) this.tree = processTree(pid);
      this.sample();
    }, intervalMs);
    this.timer.unref();
  }

  private sample(): ProcSnapshot {
    const s = snapshot(this.pid, this.tree);
    this.peak = Math.max(this.peak, s.rssBytes);
    if (this.keepSamples) this.samples.push({ atMs: Date.now() - this.started, rssBytes: s.rssBytes });
    return s;
  }

  stop(): SampledUsage {
    clearInterval(this.timer);
    this.tree = processTree(this.pid);
    const last = this.sample();
    return { rssStartBytes: this.first, rssPeakBytes: Math.max(this.peak, last.hwmBytes), cpuSeconds: last.cpuSeconds - this.start.cpuSeconds, systemSeconds: last.systemSeconds - this.start.systemSeconds, samples: this.samples };
  }
}
