// Where the proxy's time goes: a V8 CPU profile (the .cpuprofile format of node --cpu-prof) reduced to self time per
// function and per origin of the code (a src/ module, an npm package, Node's internals, GC).
// Self time is the sum of the sampling intervals whose top frame is that function.
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
