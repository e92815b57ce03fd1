// Vitest globalSetup: each run gets a temp root of its own. TMPDIR is set before the forks start
// (vitest builds their environment from process.env after global setup), so os.tmpdir() in every
// test file, every app under test and every process they spawn points inside it. At teardown the
// root is searched for what a test left behind (a CA private key, a dlp-proxy-* dir or spool file)
// before it is removed: anything found fails the run loudly, since the next run on a machine
// without this root would have kept it (two runs once left 44 CA private keys in /tmp).
// Whatever appeared in the system temp dir itself meanwhile (code that ignores TMPDIR) is listed
// too; it fails the run under CI, where nothing else runs beside it, and is a warning elsewhere,
// where another engineer's proxy or bench may be writing there at the same moment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LEFTOVER_DIR = /^dlp-proxy-/;
const LEFTOVER_KEY = /-key\.pem$/;

/** Paths under `dir` (to `depth` levels) that a test must not leave: dlp-proxy-* at the top, *-key.pem anywhere. */
function leftovers(dir: string, depth = 4): string[] {
  const found: string[] = [];
  const walk = (at: string, level: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(at, e.name);
      if ((level === 0 && LEFTOVER_DIR.test(e.name)) || LEFTOVER_KEY.test(e.name)) found.push(full);
      if (e.isDirectory() && level < depth) walk(full, level + 1);
    }
  };
  walk(dir, 0);
  return found;
}

/** Top-level names in the system temp dir that look like ours. */
function ourNames(dir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(dir).filter((n) => LEFTOVER_DIR.test(n) || LEFTOVER_KEY.test(n)));
  } catch {
    return new Set();
  }
}

/**
 * Roots of earlier runs that were killed before their teardown (a timeout, SIGKILL): each names
 * its owner's pid; a root whose owner is gone is removed, with whatever keys it still holds.
 */
function removeAbandonedRoots(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith('vitest-dlp-run-'));
  } catch {
    return;
  }
  for (const name of names) {
    const root = path.join(dir, name);
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(root, 'owner.pid'), 'utf8'));
    } catch {
      continue; // not ours to judge (no owner recorded)
    }
    try {
      process.kill(pid, 0);
    } catch {
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    }
  }
}

export default function setup(): () => void {
  const systemTmp = os.tmpdir();
  const previous = process.env['TMPDIR'];
  removeAbandonedRoots(systemTmp);
  const root = fs.mkdtempSync(path.join(systemTmp, 'vitest-dlp-run-'));
  fs.writeFileSync(path.join(root, 'owner.pid'), String(process.pid));
  // Traversable by others, not listable: daemons that drop privileges (squid runs as `proxy`)
  // reach the directories the harness made for them inside; each of those keeps its own mode.
  fs.chmodSync(root, 0o711);
  process.env['TMPDIR'] = root;
  const before = ourNames(systemTmp);
  const ci = process.env['CI'] === 'true' || process.env['CI'] === '1';

  return () => {
    const left = leftovers(root);
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    const appeared = [...ourNames(systemTmp)].filter((n) => !before.has(n)).map((n) => path.join(systemTmp, n));

    if (left.length > 0) {
      console.error(`\n[temp check] FAILED: this run left ${left.length} path(s) in its temp dir (removed now); the test that made them must remove them, also when it fails (test/support/temp-dir.ts):`);
      for (const p of left) console.error(`  ${path.relative(root, p)}`);
    }
    if (appeared.length > 0) {
      console.error(`\n[temp check] ${ci ? 'FAILED' : 'warning'}: ${appeared.length} path(s) appeared in ${systemTmp} during this run, outside its temp dir (code that ignores TMPDIR${ci ? '' : ', or another process'}):`);
      for (const p of appeared) console.error(`  ${p}`);
    }
    if (left.length > 0 || (ci && appeared.length > 0)) process.exitCode = 1;
  };
}
