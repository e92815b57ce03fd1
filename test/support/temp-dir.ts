// Temp directories that tests create are removed after the test file, also when its tests fail:
// tempDir() records each one and test/support/remove-temp-dirs.ts (a vitest setup file) removes
// them in an afterAll of every file. The run's global setup (global-setup.ts) points os.tmpdir()
// at a directory of the run's own and reports what a file left behind anyway. Outside vitest (the
// benches reuse the peer launchers) nothing runs an afterAll, so the directories go when the
// process exits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created = new Set<string>();
let exitHook = false;

/** A fresh directory under os.tmpdir(), removed after the current test file (or at process exit). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', removeTempDirs);
  }
  return dir;
}

/** Remove every directory tempDir() made in this file (rm -rf, errors ignored: force). */
export function removeTempDirs(): void {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  created.clear();
}
