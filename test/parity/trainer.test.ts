import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { type CaseResult, FULL, writeCaseInputs } from '../golden/trainer/cases.ts';
import { readMargins, trainerParity } from '../ml/gbdt/golden-suite.ts';
import { PYTHON, requirePython, scaled } from '../support/env.ts';

const SCRIPT = join(import.meta.dirname, '../golden/trainer/golden.py');
let dir = '';

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Live, at the scale docs/trainer.md quotes: the installed xgboost loads our models and fits its own.
trainerParity('trainer golden parity with the installed xgboost (live)', FULL, (cases) => {
  requirePython(['xgboost', 'sklearn', 'numpy']);
  dir = mkdtempSync(join(tmpdir(), 'gbdt-golden-'));
  writeCaseInputs(dir, cases, FULL);
  // xgboost fits three models at full size here: about 7 s on a quiet machine, 12+ min at load 11 per core.
  execFileSync(PYTHON, [SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: scaled(300_000) });
  const read = (file: string) => readFileSync(join(dir, file));
  const { cases: results } = JSON.parse(read('results.json').toString('utf8')) as { cases: Record<string, CaseResult> };
  return { results, margins: (name, split) => readMargins(read, name, split) };
});
