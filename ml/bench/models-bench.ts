/**
 * Side by side on real data, one run, same feature matrices and splits: our trainer + our evaluator,
 * xgboost 1.7.4 hist, scikit-learn 1.2.1 HistGradientBoosting and RandomForest. Quality, training seconds
 * and single-thread scoring rows/s per engine; ratios are relative to xgboost.
 *
 * Run: npx tsx ml/bench/models-bench.ts [--json] [--quick] [--report DIR] [--data DIR]
 * (needs /usr/bin/python3 with python3-xgboost and python3-sklearn; the Python side is
 * test/golden/bench/models_bench.py).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TURBOFAN } from '../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import { ai4iFeatureNames, ai4iFeatures, ai4iLabels, loadAi4i } from '../datasets/ai4i.ts';
import { type CmapssEngine, engineEvents, readCmapss, readRul } from '../datasets/cmapss.ts';
import { stratifiedSplit } from '../evaluate/ai4i.ts';
import { averagePrecision, bestF1Threshold, metricsAt, nasaScore, rmse, rocAuc } from '../evaluate/metrics.ts';
import { replayFeatures } from '../features/replay.ts';
import { type TrainParams, train } from '../gbdt/index.ts';
import { ai4iReport, cmapssReport } from '../report/builders.ts';
import { writeReport } from '../report/render.ts';

const PY_SCRIPT = fileURLToPath(new URL('../../test/golden/bench/models_bench.py', import.meta.url));

/** Piecewise-linear RUL cap of the C-MAPSS protocol (shared/data/README.md), for training and test. */
export const RUL_CAP = 125;

export const ENGINES = ['ours', 'xgboost', 'sklearn-hgb', 'sklearn-rf'] as const;
export type EngineName = (typeof ENGINES)[number];

/** The Python side failed or is missing its packages. */
export class BenchPythonError extends Error {
  override name = 'BenchPythonError';
}


/** A design matrix: row-major float32, NaN = missing. */
interface Matrix {
  readonly x: Float32Array;
  readonly n: number;
  readonly f: number;
  readonly y: Float32Array;
}

interface CaseSpec {
  readonly name: 'cmapss-fd001' | 'ai4i2020';
  readonly task: 'regression' | 'binary';
  readonly names: readonly string[];
  readonly train: Matrix;
  readonly valid?: Matrix;
  readonly test: Matrix;
  readonly params: Partial<TrainParams> & Pick<TrainParams, 'objective' | 'nRounds' | 'eta' | 'maxDepth'>;
  readonly rf: { readonly nEstimators: number; readonly maxFeatures: string | number; readonly minSamplesLeaf: number };
  readonly scoreRows: number;
  /** Test-row ids for reports (engine units for C-MAPSS). */
  readonly ids: readonly number[];
}

export interface EngineResult {
  readonly engine: EngineName;
  readonly trainSeconds: number;
  readonly scoreRowsPerSec: number;
  /** rmse + nasaScore (regression) or prAuc, rocAuc, f1, precision, recall, threshold (binary). */
  readonly quality: Readonly<Record<string, number>>;
  /** Test predictions, test-row order. */
  readonly test: readonly number[];
}

export interface CaseResult {
  readonly dataset: CaseSpec['name'];
  readonly task: CaseSpec['task'];
  readonly trainRows: number;
  readonly validRows: number;
  readonly testRows: number;
  readonly features: number;
  readonly scoreRows: number;
  readonly params: Readonly<Record<string, number | string>>;
  readonly engines: readonly EngineResult[];
  /** Largest |our evaluator − libxgboost scoring our model file| on the test rows. */
  readonly oursVsLibxgboostMaxDiff: number;
  readonly truth: readonly number[];
  readonly ids: readonly number[];
}

export interface BenchResult {
  readonly date: string;
  readonly machine: string;
  readonly quick: boolean;
  readonly versions: Readonly<Record<string, string>>;
  readonly wallSeconds: number;
  readonly cases: readonly CaseResult[];
}

export interface BenchOptions {
  /** Smaller data and fewer rounds/trees, for a smoke run. @default false */
  readonly quick?: boolean;
  /** @default '../shared/data' (relative to the project root, the working directory) */
  readonly dataDir?: string;
  /** @default $PDM_PYTHON, else '/usr/bin/python3' */
  readonly python?: string;
  readonly log?: (line: string) => void;
}

function toMatrix(vectors: readonly Float64Array[], labels: readonly number[], f: number, what: string): Matrix {
  const n = vectors.length;
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    const v = vectors[i]!;
    for (let j = 0; j < f; j++) {
      const val = v[j]!;
      if (val === Number.POSITIVE_INFINITY || val === Number.NEGATIVE_INFINITY) {
        throw new RangeError(`${what}: feature ${j} of row ${i} is infinite`);
      }
      x[i * f + j] = val;
    }
  }
  return { x, n, f, y: Float32Array.from(labels) };
}

function asset(engine: CmapssEngine, set: string) {
  return { assetId: `fd001-${set}-${engine.unit}`, siteId: 'cmapss', modelId: TURBOFAN.id };
}

/** FD001 via the product's feature code: every cycle of the train engines, the last cycle of test ones. */
function cmapssCase(dataDir: string, quick: boolean): CaseSpec {
  const names = featureNames(TURBOFAN);
  const f = names.length;
  const trainFile = readCmapss(join(dataDir, 'cmapss/train_FD001.txt'));
  const testFile = readCmapss(join(dataDir, 'cmapss/test_FD001.txt'));
  const rul = readRul(join(dataDir, 'cmapss/RUL_FD001.txt'));
  if (rul.length !== testFile.engines.length) {
    throw new RangeError(`RUL_FD001 has ${rul.length} engines, test_FD001 ${testFile.engines.length}`);
  }
  const trainEngines = quick ? trainFile.engines.slice(0, 30) : trainFile.engines;
  const tv: Float64Array[] = [];
  const ty: number[] = [];
  for (const e of trainEngines) {
    const last = e.cycles[e.cycles.length - 1]!;
    for (const row of replayFeatures(TURBOFAN, asset(e, 'train'), engineEvents(e)).rows) {
      tv.push(row.vector);
      ty.push(Math.min(last - row.seq, RUL_CAP));
    }
  }
  const sv: Float64Array[] = [];
  const sy: number[] = [];
  const ids: number[] = [];
  testFile.engines.forEach((e, k) => {
    const rows = replayFeatures(TURBOFAN, asset(e, 'test'), engineEvents(e)).rows;
    const lastRow = rows[rows.length - 1];
    if (!lastRow || lastRow.seq !== e.cycles[e.cycles.length - 1]) {
      throw new RangeError(`test engine ${e.unit}: its last cycle produced no feature row`);
    }
    sv.push(lastRow.vector);
    sy.push(Math.min(rul[k]!, RUL_CAP));
    ids.push(e.unit);
  });
  const trainM = toMatrix(tv, ty, f, 'cmapss train');
  let mean = 0;
  for (const v of trainM.y) mean += v;
  mean /= trainM.n;
  return {
    name: 'cmapss-fd001',
    task: 'regression',
    names,
    train: trainM,
    test: toMatrix(sv, sy, f, 'cmapss test'),
    params: {
      objective: 'reg:squarederror',
      nRounds: quick ? 30 : 300,
      eta: 0.05,
      maxDepth: 6,
      lambda: 1,
      gamma: 0,
      minChildWeight: 1,
      maxBin: 256,
      // The label mean, which sklearn's HGB starts from too, instead of xgboost 1.7's 0.5.
      baseScore: Math.fround(mean),
    },
    rf: { nEstimators: quick ? 30 : 300, maxFeatures: 'sqrt', minSamplesLeaf: 1 },
    scoreRows: quick ? 10_000 : 50_000,
    ids,
  };
}

function take(x: Float32Array, y: Float32Array, f: number, idx: ArrayLike<number>): Matrix {
  const out = new Float32Array(idx.length * f);
  Array.from(idx).forEach((r, i) => out.set(x.subarray(r * f, r * f + f), i * f));
  return { x: out, n: idx.length, f, y: Float32Array.from(idx, (r) => y[r]!) };
}

/** AI4I: stratified 80/20 (seed 1); 20% of the training part is the validation slice for the F1 threshold. */
function ai4iCase(dataDir: string, quick: boolean): CaseSpec {
  const { rows } = loadAi4i(join(dataDir, 'ai4i2020/ai4i2020.csv'));
  const names = ai4iFeatureNames(true);
  const f = names.length;
  const x = ai4iFeatures(rows, true);
  const y = ai4iLabels(rows);
  const s = stratifiedSplit(y, 1);
  return {
    name: 'ai4i2020',
    task: 'binary',
    names,
    train: take(x, y, f, s.train),
    valid: take(x, y, f, s.valid),
    test: take(x, y, f, s.test),
    params: {
      objective: 'binary:logistic',
      nRounds: quick ? 30 : 300,
      eta: 0.05,
      maxDepth: 6,
      lambda: 1,
      gamma: 0,
      minChildWeight: 1,
      maxBin: 256,
      baseScore: 0.5,
    },
    rf: { nEstimators: quick ? 30 : 300, maxFeatures: 'sqrt', minSamplesLeaf: 1 },
    scoreRows: quick ? 10_000 : 50_000,
    ids: Array.from(s.test),
  };
}

/** Text that reads back (as float64, then float32) to exactly the float32 value; '' for NaN. */
export function f32Text(v: number): string {
  if (Number.isNaN(v)) return '';
  const t = Math.fround(v);
  // toPrecision drops the sign of -0; trees treat ±0 alike, but the text should still be exact.
  if (Object.is(t, -0)) return '-0';
  // 9 significant digits always round-trip a float32; 7 usually does and is shorter.
  let s = t.toPrecision(7);
  if (Math.fround(Number(s)) !== t) s = t.toPrecision(9);
  const e = s.indexOf('e');
  const mant = e < 0 ? s : s.slice(0, e);
  const trimmed = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
  return e < 0 ? trimmed : trimmed + s.slice(e);
}

function writeCsv(path: string, names: readonly string[], m: Matrix): void {
  const lines: string[] = [['label', ...names].join(',')];
  const cells: string[] = new Array<string>(m.f + 1);
  for (let i = 0; i < m.n; i++) {
    cells[0] = f32Text(m.y[i]!);
    for (let j = 0; j < m.f; j++) cells[j + 1] = f32Text(m.x[i * m.f + j]!);
    lines.push(cells.join(','));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

/** Rows/s of `fn` over `rows` rows: a warm-up pass, then the best of up to 3 passes (or 2 s). */
function scoreRate(fn: () => void, rows: number): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  let spent = 0;
  for (let k = 0; k < 3 && (k === 0 || spent < 2); k++) {
    const t0 = performance.now();
    fn();
    const dt = (performance.now() - t0) / 1000;
    best = Math.min(best, dt);
    spent += dt;
  }
  return rows / best;
}

function tile(m: Matrix, rows: number): { x: Float32Array; n: number } {
  const reps = Math.max(1, Math.ceil(rows / m.n));
  const x = new Float32Array(reps * m.n * m.f);
  for (let r = 0; r < reps; r++) x.set(m.x, r * m.n * m.f);
  return { x, n: reps * m.n };
}

interface Predictions {
  readonly trainSeconds: number;
  readonly scoreRowsPerSec: number;
  readonly test: readonly number[];
  readonly valid?: readonly number[];
}

function runOurs(c: CaseSpec, dir: string): Predictions & { modelFile: string } {
  const t0 = performance.now();
  const booster = train(c.params, { ...c.train, featureNames: [...c.names] });
  const trainSeconds = (performance.now() - t0) / 1000;
  const json = booster.toXgboostJson();
  const modelFile = `${c.name}-ours.json`;
  writeFileSync(join(dir, modelFile), json);
  // Quality and speed come from the evaluator the product runs, loading the file xgboost would load.
  const model = loadXgboostModel(json);
  const predict = (m: { x: Float32Array; n: number }) => Array.from(predictBatch(model, m.x, m.n));
  const rep = tile(c.test, c.scoreRows);
  const out = new Float64Array(rep.n);
  const scoreRowsPerSec = scoreRate(() => predictBatch(model, rep.x, rep.n, out), rep.n);
  return {
    trainSeconds,
    scoreRowsPerSec,
    test: predict(c.test),
    ...(c.valid ? { valid: predict(c.valid) } : {}),
    modelFile,
  };
}

function quality(c: CaseSpec, p: Predictions): Record<string, number> {
  const truth = c.test.y;
  if (c.task === 'regression') return { rmse: rmse(p.test, truth), nasaScore: nasaScore(p.test, truth) };
  // Same rule for every engine: the F1-best threshold on the validation slice, applied to test.
  if (!p.valid || !c.valid) throw new RangeError(`${c.name}: binary case without validation predictions`);
  const threshold = bestF1Threshold(p.valid, c.valid.y).threshold;
  const at = metricsAt(p.test, truth, threshold);
  return {
    prAuc: averagePrecision(p.test, truth),
    rocAuc: rocAuc(p.test, truth),
    f1: at.f1,
    precision: at.precision,
    recall: at.recall,
    threshold,
    f1At05: metricsAt(p.test, truth, 0.5).f1,
  };
}

interface PyCase {
  readonly engines: Readonly<Record<string, Predictions>>;
  readonly oursByXgboost: readonly number[];
}

interface PyResults {
  readonly versions: Readonly<Record<string, string>>;
  readonly cases: Readonly<Record<string, PyCase>>;
}

/** Builds both cases, runs every engine, and returns the figures. */
export function runModelsBench(opts: BenchOptions = {}): BenchResult {
  const quick = opts.quick ?? false;
  const dataDir = opts.dataDir ?? '../shared/data';
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'pdm-models-bench-'));
  try {
    log('building feature matrices (C-MAPSS via replayFeatures, AI4I)…');
    const cases = [cmapssCase(dataDir, quick), ai4iCase(dataDir, quick)];
    const ours = new Map<string, Predictions & { modelFile: string }>();
    for (const c of cases) {
      log(`${c.name}: ours (${c.train.n} × ${c.train.f}, ${c.params.nRounds} rounds)…`);
      ours.set(c.name, runOurs(c, dir));
      writeCsv(join(dir, `${c.name}-train.csv`), c.names, c.train);
      writeCsv(join(dir, `${c.name}-test.csv`), c.names, c.test);
      if (c.valid) writeCsv(join(dir, `${c.name}-valid.csv`), c.names, c.valid);
    }
    const spec = {
      cases: cases.map((c) => ({
        name: c.name,
        task: c.task,
        train: `${c.name}-train.csv`,
        test: `${c.name}-test.csv`,
        valid: c.valid ? `${c.name}-valid.csv` : null,
        params: { ...c.params, lambda: c.params.lambda ?? 1, gamma: c.params.gamma ?? 0 },
        rf: c.rf,
        scoreRows: c.scoreRows,
        engines: ENGINES.filter((e) => e !== 'ours'),
        oursModel: ours.get(c.name)!.modelFile,
      })),
    };
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(spec));
    log('xgboost and scikit-learn (Python, one thread)…');
    const python = opts.python ?? (process.env.PDM_PYTHON || '/usr/bin/python3');
    const r = spawnSync(python, [PY_SCRIPT, dir], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
      maxBuffer: 64 << 20,
    });
    if (r.error) throw new BenchPythonError(`cannot run ${python}: ${r.error.message}`);
    if (r.status !== 0) throw new BenchPythonError(`${PY_SCRIPT} exited ${r.status}: ${r.stderr.trim()}`);
    const py = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as PyResults;
    const results: CaseResult[] = cases.map((c) => {
      const pc = py.cases[c.name];
      if (!pc) throw new BenchPythonError(`no Python results for ${c.name}`);
      const o = ours.get(c.name)!;
      const all: [EngineName, Predictions][] = [['ours', o]];
      for (const e of ENGINES) {
        if (e === 'ours') continue;
        const p = pc.engines[e];
        if (!p) throw new BenchPythonError(`no ${e} results for ${c.name}`);
        all.push([e, p]);
      }
      let maxDiff = 0;
      o.test.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - pc.oursByXgboost[i]!))));
      return {
        dataset: c.name,
        task: c.task,
        trainRows: c.train.n,
        validRows: c.valid?.n ?? 0,
        testRows: c.test.n,
        features: c.train.f,
        scoreRows: tile(c.test, c.scoreRows).n,
        params: {
          ...Object.fromEntries(Object.entries(c.params).filter(([, v]) => v !== undefined)),
          rfTrees: c.rf.nEstimators,
          rfMaxFeatures: c.rf.maxFeatures,
        } as Record<string, number | string>,
        engines: all.map(([engine, p]) => ({
          engine,
          trainSeconds: p.trainSeconds,
          scoreRowsPerSec: p.scoreRowsPerSec,
          quality: quality(c, p),
          test: p.test,
        })),
        oursVsLibxgboostMaxDiff: maxDiff,
        truth: Array.from(c.test.y),
        ids: c.ids,
      };
    });
    return {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
      quick,
      versions: { node: process.version, ...py.versions },
      wallSeconds: (performance.now() - started) / 1000,
      cases: results,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const QUALITY_COLUMNS: Readonly<Record<CaseResult['task'], readonly [string, string][]>> = {
  regression: [
    ['rmse', 'RMSE ↓'],
    ['nasaScore', 'NASA score ↓'],
  ],
  binary: [
    ['prAuc', 'PR-AUC'],
    ['rocAuc', 'ROC-AUC'],
    ['f1', 'F1 (val. threshold)'],
  ],
};

function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(digits);
}

/** Markdown tables, one per data set; ratios are engine ÷ xgboost (time: > 1 is slower; rows/s: > 1 is faster). */
export function formatTable(res: BenchResult): string {
  const out: string[] = [];
  for (const c of res.cases) {
    const xgb = c.engines.find((e) => e.engine === 'xgboost');
    const qcols = QUALITY_COLUMNS[c.task];
    out.push(
      `**${c.dataset}** — ${c.task}, train ${c.trainRows.toLocaleString('en-US')}` +
        (c.validRows ? ` (+${c.validRows} validation)` : '') +
        ` × ${c.features} features, test ${c.testRows}, scoring on ${c.scoreRows.toLocaleString('en-US')} rows`,
      '',
      `| engine | ${qcols.map(([, h]) => h).join(' | ')} | train s | × xgb | score rows/s | × xgb |`,
      `| --- | ${qcols.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: |`,
    );
    for (const e of c.engines) {
      const tr = xgb ? (e.trainSeconds / xgb.trainSeconds).toFixed(2) : '—';
      const sr = xgb ? (e.scoreRowsPerSec / xgb.scoreRowsPerSec).toFixed(2) : '—';
      out.push(
        `| ${e.engine} | ${qcols.map(([k]) => fmt(e.quality[k]!)).join(' | ')} | ${e.trainSeconds.toFixed(2)} | ${tr} | ` +
          `${Math.round(e.scoreRowsPerSec).toLocaleString('en-US')} | ${sr} |`,
      );
    }
    out.push('', `our evaluator vs libxgboost on our model file, max |Δ| on test: ${c.oursVsLibxgboostMaxDiff.toExponential(2)}`, '');
  }
  return out.join('\n');
}

/** Renders the C-MAPSS and AI4I reports of `ours` from a bench result into `dir`. */
export function writeBenchReports(res: BenchResult, dir: string): string[] {
  const written: string[] = [];
  for (const c of res.cases) {
    const o = c.engines.find((e) => e.engine === 'ours');
    if (!o) continue;
    if (c.dataset === 'cmapss-fd001') {
      const rep = cmapssReport({
        title: 'C-MAPSS FD001 — our GBDT',
        rmse: o.quality.rmse!,
        nasaScore: o.quality.nasaScore!,
        predictions: c.ids.map((unit, i) => ({ unit, true: c.truth[i]!, pred: o.test[i]! })),
      });
      written.push(writeReport(join(dir, 'cmapss'), rep).html);
    } else {
      const rep = ai4iReport({
        title: 'AI4I 2020 — our GBDT (curves: all four engines)',
        prAuc: o.quality.prAuc!,
        rocAuc: o.quality.rocAuc!,
        f1: o.quality.f1!,
        threshold: o.quality.threshold!,
        series: c.engines.map((e) => ({ name: e.engine, scores: e.test, labels: c.truth })),
      });
      written.push(writeReport(join(dir, 'ai4i'), rep).html);
    }
  }
  return written;
}

function main(argv: readonly string[]): void {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const reportDir = arg('--report');
  const dataDir = arg('--data');
  const res = runModelsBench({
    quick,
    ...(dataDir ? { dataDir } : {}),
    log: json ? undefined : (l) => console.error(l),
  });
  if (json) {
    console.log(JSON.stringify(res));
  } else {
    console.log(`# models side by side — ${res.date}${quick ? ' (quick)' : ''}`);
    console.log(`machine: ${res.machine}; ${Object.entries(res.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log('');
    console.log(formatTable(res));
    console.log(`wall time: ${res.wallSeconds.toFixed(1)} s`);
  }
  if (reportDir) for (const f of writeBenchReports(res, reportDir)) console.error(`report: ${f}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
