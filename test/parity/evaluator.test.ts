import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { evaluatorParity } from '../core/model/golden-suite.ts';
import { PYTHON, requirePython, scaled } from '../support/env.ts';

const SCRIPT = join(import.meta.dirname, '../golden/evaluator/make_golden.py');
let dir = '';

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Live: the installed xgboost trains and scores the full-size set now (about 5 s on a quiet machine).
evaluatorParity(
  'golden parity with the installed libxgboost (live, 10,000 rows)',
  () => {
    requirePython(['xgboost', 'numpy']);
    dir = mkdtempSync(join(tmpdir(), 'pdm-golden-evaluator-'));
    execFileSync(PYTHON, [SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: scaled(300_000) });
    return dir;
  },
  10_000,
);
