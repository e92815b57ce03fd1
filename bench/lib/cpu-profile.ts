// Where the proxy's time goes: a V8 CPU profile (the .cpuprofile format of node --cpu-prof) reduced to self time per
// function and per origin of the code (a src/ module, an npm package, Node's internals, GC).
// Self time is the sum of the sampling intervals whose top frame is that function.
// And what it allocates: V8's sampling heap profile of the same window (collected objects
// included), reduced to bytes per request and the functions that allocated them. Bytes per request
// hardly move with the machine's load, where CPU time moves by 2x: a change that allocates less is
// seen here even when an A/B of CPU time cannot tell it from noise.
// Caveat of the CPU profile: V8 samples by wall clock, so a sample that lands while the process
// is preempted (a loopback write that woke its peer) counts for the function it was in; `writev`
// reads higher here than in `perf`, which counts CPU time only.
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  scenario: string;
  totalMs: number;
  /** Busy time: everything but (idle). */
  busyMs: number;
  topFunctions: Array<{ name: string; where: string; selfMs: number; share: number }>;
  byOrigin: Array<{ origin: string; selfMs: number; share: number }>;
  /** Readable lines of the above. */
  lines: string[];
  /** what the window allocated, when a heap profile was taken with it */
  allocation?: AllocationSummary;
}

/** V8's sampling heap profile (HeapProfiler.stopSampling): a call tree with bytes sampled per node. */
interface HeapProfile {
  head: HeapNode;
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

export interface AllocationSummary {
  /** sampled bytes over the requests of the window */
  bytesPerRequest: number;
  topFunctions: Array<{ name: string; where: string; bytesPerRequest: number; share: number }>;
  lines: string[];
}

/** Which code a frame belongs to: `src/proxy`, `npm:pino`, `node:internal`, `(garbage collector)`. */
export function codeOrigin(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : 'native';
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  const src = /\/(src|bench)\/([^/]+)/.exec(url);
  if (src) return src[2]!.includes('.') ? `${src[1]}/${src[2]}` : `${src[1]}/${src[2]}/`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
  return url === '' ? '' : `${url}:${frame.lineNumber + 1}`;
}

export function summariseCpuProfile(file: string, scenario: string, top = 25): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, { name: string; where: string; selfMs: number }>();
  const byOrigin = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = frames.get(profile.samples[i]!);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!frame) continue;
    totalMs += ms;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
    const entry = byFunction.get(key) ?? { name: frame.functionName || '(anonymous)', where: shortUrl(frame), selfMs: 0 };
    entry.selfMs += ms;
    byFunction.set(key, entry);
    const origin = codeOrigin(frame);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  const topFunctions = [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top).map((f) => ({ ...f, share: share(f.selfMs) }));
  const origins = [...byOrigin.entries()].map(([origin, selfMs]) => ({ origin, selfMs, share: share(selfMs) })).sort((a, b) => b.selfMs - a.selfMs);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const lines = [
    `profile of ${scenario}: ${(busyMs / 1000).toFixed(2)} s busy of ${(totalMs / 1000).toFixed(2)} s sampled`,
    'self time by origin of the code:',
    ...origins.slice(0, 12).map((o) => `  ${pct(o.share)}  ${o.origin}`),
    'top functions by self time:',
    ...topFunctions.map((f) => `  ${pct(f.share)}  ${f.name}  ${f.where}`),
  ];
  return { scenario, totalMs, busyMs, topFunctions, byOrigin: origins, lines };
}

/** Bytes allocated per request, and by which functions (self: the function that allocated). */
export function summariseHeapProfile(file: string, requests: number, top = 15): AllocationSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as HeapProfile;
  const byFunction = new Map<string, { name: string; where: string; bytes: number }>();
  let total = 0;
  const stack: HeapNode[] = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const frame = node.callFrame;
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
    const entry = byFunction.get(key) ?? { name: frame.functionName || '(anonymous)', where: shortUrl(frame), bytes: 0 };
    entry.bytes += node.selfSize;
    byFunction.set(key, entry);
  }
  const per = (bytes: number) => (requests > 0 ? bytes / requests : 0);
  const topFunctions = [...byFunction.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top)
    .map((f) => ({ name: f.name, where: f.where, bytesPerRequest: per(f.bytes), share: total > 0 ? f.bytes / total : 0 }));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(2).padStart(6)} KiB`;
  const lines = [
    `allocated: ${kib(per(total)).trim()} per request (${requests} requests; V8 sampling heap profile, collected objects included)`,
    'top functions by bytes allocated per request:',
    ...topFunctions.map((f) => `  ${kib(f.bytesPerRequest)}  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`),
  ];
  return { bytesPerRequest: per(total), topFunctions, lines };
}

/** Where run-scenario.ts keeps the heap profile taken with a CPU profile. */
export function heapProfileFile(cpuProfileFile: string): string {
  return cpuProfileFile.replace(/\.cpuprofile$/, '.heapprofile');
}
