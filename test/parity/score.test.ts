import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { scoreParity } from '../ml/cli/score-suite.ts';
import { PYTHON, requirePython, scaled } from '../support/env.ts';

const SCRIPT = join(import.meta.dirname, '../golden/score/make_score.py');
let dir = '';

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

scoreParity('pdm score against the installed xgboost (live)', () => {
  requirePython(['xgboost', 'numpy']);
  dir = mkdtempSync(join(tmpdir(), 'pdm-score-'));
  execFileSync(PYTHON, [SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: scaled(60_000) });
  return dir;
});
