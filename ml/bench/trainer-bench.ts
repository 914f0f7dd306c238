/**
 * Times the TS histogram GBDT trainer against xgboost 1.7.4 `tree_method=hist` on the same seeded data
 * and hyperparameters, in one run, and prints the ratio.
 *
 *   npx tsx ml/bench/trainer-bench.ts [--rows 100000] [--features 30] [--rounds 300] [--objective binary:logistic] [--repeats 1]
 *
 * Needs Debian's python3-xgboost (called through /usr/bin/python3).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Objective } from '../gbdt/params.ts';
import { makeSynthetic } from '../gbdt/synthetic.ts';
import { train } from '../gbdt/train.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    features: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '300' },
    depth: { type: 'string', default: '6' },
    objective: { type: 'string', default: 'binary:logistic' },
    repeats: { type: 'string', default: '1' },
  },
});
const n = Number(values.rows);
const f = Number(values.features);
const rounds = Number(values.rounds);
const depth = Number(values.depth);
const repeats = Number(values.repeats);
const objective = values.objective as Objective;

const data = makeSynthetic(n, f, objective, 7);
const dir = mkdtempSync(join(tmpdir(), 'trainer-bench-'));
try {
  writeFileSync(join(dir, 'x.f32'), data.x);
  writeFileSync(join(dir, 'y.f32'), Float32Array.from(data.y));
  writeFileSync(
    join(dir, 'bench.json'),
    JSON.stringify({
      f,
      rounds,
      repeats,
      nthreads: [1, 2],
      xgb_params: { objective, eta: 0.1, max_depth: depth, max_bin: 256 },
    }),
  );
  let tsBest = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    train({ objective, nRounds: rounds, eta: 0.1, maxDepth: depth, maxBin: 256 }, data);
    tsBest = Math.min(tsBest, (performance.now() - t0) / 1000);
  }
  const script = fileURLToPath(new URL('../../test/golden/trainer/bench.py', import.meta.url));
  const py = JSON.parse(execFileSync('/usr/bin/python3', [script, dir], { encoding: 'utf8' })) as {
    xgboost_version: string;
    runs: { nthread: number; seconds: number }[];
  };
  console.log(`data: ${n} rows × ${f} features, ${objective}, ${rounds} rounds, depth ${depth}, 256 bins`);
  console.log(`TS trainer (1 thread): ${tsBest.toFixed(2)} s`);
  for (const run of py.runs) {
    console.log(
      `xgboost ${py.xgboost_version} hist nthread=${run.nthread}: ${run.seconds.toFixed(2)} s  → TS/xgboost = ${(tsBest / run.seconds).toFixed(2)}×`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
