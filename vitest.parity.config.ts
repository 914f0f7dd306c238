import { defineConfig } from 'vitest/config';
import { scaled } from './test/support/env.ts';

// `npm run test:parity`: the live cross-checks against Debian's python3-xgboost and python3-sklearn
// (or the interpreter PDM_PYTHON names). They fail, never skip, when those are missing.
export default defineConfig({
  test: {
    include: ['test/parity/**/*.test.ts'],
    environment: 'node',
    testTimeout: scaled(180_000),
    hookTimeout: scaled(600_000),
    // Each file trains with xgboost on both cores; running them one at a time keeps the timings honest.
    fileParallelism: false,
    reporters: ['default'],
    env: { CDK_VALIDATION: 'false', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
