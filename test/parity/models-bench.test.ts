import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BenchResult, ENGINES } from '../../ml/bench/models-bench.ts';
import { requirePython, scaled } from '../support/env.ts';

const ROOT = join(import.meta.dirname, '../..');

// The real figures come from `npx tsx ml/bench/models-bench.ts`; this only checks that the quick run works
// end to end (needs Debian's python3-xgboost and python3-sklearn, or PDM_PYTHON; ~10 s on a quiet machine).
describe('models-bench --quick (live)', () => {
  it('runs every engine on both data sets and our evaluator matches libxgboost', () => {
    requirePython(['xgboost', 'sklearn', 'numpy']);
    const r = spawnSync('npx', ['tsx', 'ml/bench/models-bench.ts', '--quick', '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as BenchResult;
    expect(res.quick).toBe(true);
    expect(res.cases.map((c) => c.dataset)).toEqual(['cmapss-fd001', 'ai4i2020']);
    for (const c of res.cases) {
      expect(c.engines.map((e) => e.engine)).toEqual([...ENGINES]);
      expect(c.oursVsLibxgboostMaxDiff).toBeLessThan(1e-5);
      for (const e of c.engines) {
        expect(e.trainSeconds).toBeGreaterThan(0);
        expect(e.scoreRowsPerSec).toBeGreaterThan(1000);
        expect(e.test).toHaveLength(c.testRows);
        // Far from chance even with 30 rounds: a constant RUL predictor scores RMSE ≈ 40 on FD001.
        if (c.task === 'regression') expect(e.quality.rmse).toBeLessThan(30);
        else expect(e.quality.rocAuc).toBeGreaterThan(0.9);
      }
    }
  }, scaled(600_000));
});
