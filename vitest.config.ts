import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { scaled } from './test/support/env.ts';

// `npm test`: everything that needs only Node and ../shared/data. The live cross-checks against the
// installed xgboost / scikit-learn live in test/parity/ and run with `npm run test:parity`
// (vitest.parity.config.ts). Timeouts are sized for a quiet machine and stretched by its load.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/parity/**', '**/node_modules/**'],
    environment: 'node',
    // Vitest runs cores − 1 files at once: one on a 2-core machine, although most files wait on child
    // processes, sockets and timers rather than the CPU. Two at least: `npm test` 8 min 51 s → 4 min 50 s
    // on this 2-core machine (all files passing either way).
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: scaled(60_000),
    hookTimeout: scaled(60_000),
    reporters: ['default'],
    env: { CDK_VALIDATION: 'false', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
