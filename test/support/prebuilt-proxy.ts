// The proxy's sources transpiled to JavaScript once per test run, for `dlp-proxy start` in a child
// process (proxy-process.ts): it then runs as `npm start` runs it, from JavaScript. Under tsx a
// cluster loads every module through tsx's loader in the primary, in each worker and in each
// worker thread (the built-in ICAP service, the incident store): the six cluster test files took
// 210 s under tsx against 167 s from this build, each file run both ways in turn.
// esbuild is the transpiler tsx itself uses, file by file (no bundling, no type check, as tsx);
// the build takes about a second. It is laid out as the package is (package.json, config/,
// node_modules, dist/src/) inside the run's temp root (TMPDIR, test/support/global-setup.ts), so
// packageRoot and the bundled config resolve as for an installed package, each run has its own
// (another run's edits never reach it) and it is removed with the root.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { packageRoot } from '../../src/config/index.js';

let built: Promise<string> | undefined;

/** The main.js of this run's transpiled sources, built by the first caller of the run. */
export function prebuiltMain(): Promise<string> {
  built ??= buildOnce();
  return built;
}

async function buildOnce(): Promise<string> {
  const root = path.join(os.tmpdir(), 'prebuilt-proxy');
  const main = path.join(root, 'dist', 'src', 'main.js');
  if (fs.existsSync(main)) return main;
  // Built beside it and renamed into place: the forks of one run may get here at the same time,
  // and a rename either lands whole or finds the other fork's build there.
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'prebuilt-proxy-staging-'));
  try {
    const src = path.join(packageRoot, 'src');
    // *.as.ts is AssemblyScript (compiled to WebAssembly by npm run build:wasm), not TypeScript: tsc skips it too
    const entryPoints = (fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.as.ts')).map((f) => path.join(src, f));
    await build({ entryPoints, outbase: src, outdir: path.join(staging, 'dist', 'src'), format: 'esm', platform: 'node', target: 'node20', tsconfig: path.join(packageRoot, 'tsconfig.json'), logLevel: 'silent' });
    fs.copyFileSync(path.join(packageRoot, 'package.json'), path.join(staging, 'package.json'));
    fs.symlinkSync(path.join(packageRoot, 'config'), path.join(staging, 'config'));
    fs.symlinkSync(path.join(packageRoot, 'node_modules'), path.join(staging, 'node_modules'));
    try {
      fs.renameSync(staging, root);
    } catch (err) {
      if (!fs.existsSync(main)) throw err;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return main;
}
