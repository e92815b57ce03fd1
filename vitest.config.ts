import { defineConfig } from 'vitest/config';

// Under CI a JSON report is written as well: .ci/run reads its counts (vitest's own summary is
// not read by the CI).
const ci = process.env.CI === 'true' || process.env.CI === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // expect.poll() waits for what a peer, a socket or a timer reports later: 1 s (vitest's
    // default) is short on a loaded 2-core CI machine. A poll that passes returns at once, so
    // this costs nothing when all is well.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // A temp root per run (os.tmpdir() of every fork points inside it), checked for leftovers and
    // removed at teardown; each file's tempDir() directories are removed after the file.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/remove-temp-dirs.ts'],
    reporters: ci ? ['default', 'json'] : ['default'],
    outputFile: ci ? { json: '.ci/test-results.json' } : undefined,
  },
});
