// Setup file (vitest.config.ts setupFiles): after each test file, whatever its outcome, the
// directories it made with tempDir() (CA dirs with their private keys included) are removed.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dir.js';

afterAll(removeTempDirs);
