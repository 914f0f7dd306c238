/**
 * Single-thread scoring speed of the TS evaluator vs libxgboost on the same model and rows.
 * Run: npx tsx ml/bench/evaluator-bench.ts [rows]   (needs /usr/bin/python3 with python3-xgboost)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';

interface PyTimings {
  readonly xgboost: string;
  readonly rows: number;
  readonly features: number;
  readonly trees: number;
  readonly inplaceSeconds: number;
  readonly dmatrixSeconds: number;
}

const rows = Number(process.argv[2] ?? 10000);
const dir = mkdtempSync(join(tmpdir(), 'pdm-evaluator-bench-'));
try {
  const script = join(import.meta.dirname, '../../test/golden/evaluator/bench.py');
  const py = JSON.parse(
    execFileSync('/usr/bin/python3', [script, dir, String(rows)], { encoding: 'utf8' }),
  ) as PyTimings;
  const b = readFileSync(join(dir, 'X.f32'));
  const X = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const bytes = readFileSync(join(dir, 'model.json'));
  const t0 = performance.now();
  const model = loadXgboostModel(bytes);
  const loadMs = performance.now() - t0;
  const out = new Float64Array(rows);
  let best = Number.POSITIVE_INFINITY;
  // The first passes warm up V8's optimizing compiler; keep the best of the rest, as Python does.
  for (let k = 0; k < 8; k++) {
    const t = performance.now();
    predictBatch(model, X, rows, out, true);
    const s = (performance.now() - t) / 1000;
    if (k >= 3) best = Math.min(best, s);
  }
  const rate = (s: number): string => `${Math.round(rows / s).toLocaleString('en-US')} rows/s`;
  console.log(
    `model: xgboost ${py.xgboost} binary:logistic, ${py.trees} trees depth 6, ${py.features} features`,
  );
  console.log(`rows: ${rows} (3% NaN), single thread, best of 5`);
  console.log(`load (JSON ${(bytes.length / 1e6).toFixed(1)} MB): ${loadMs.toFixed(1)} ms`);
  console.log(`TS predictBatch:             ${rate(best)}`);
  console.log(`xgboost inplace_predict:     ${rate(py.inplaceSeconds)}`);
  console.log(`xgboost DMatrix + predict:   ${rate(py.dmatrixSeconds)}`);
  console.log(`ratio TS / inplace_predict:  ${(py.inplaceSeconds / best).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
