import { defineConfig } from 'vitest/config';

// Under CI a JSON report is written as well: .ci/run reads its counts (vitest's own summary is
// not read by the CI).
const ci = process.env.CI === 'true' || process.env.CI === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ci ? ['default', 'json'] : ['default'],
    outputFile: ci ? { json: '.ci/test-results.json' } : undefined,
  },
});
