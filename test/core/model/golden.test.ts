import { join } from 'node:path';
import { evaluatorParity } from './golden-suite.ts';

// The committed reference written by libxgboost 1.7.4 (regenerate: `npm run golden`); the live check on
// 10,000 rows against the installed xgboost is test/parity/evaluator.test.ts (`npm run test:parity`).
evaluatorParity(
  'golden parity with libxgboost (committed reference)',
  () => join(import.meta.dirname, '../../golden/fixtures/evaluator'),
  2_000,
);
