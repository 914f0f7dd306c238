/**
 * Centrifugal-pump predictors, trained on a simulated run-to-failure fleet.
 *
 * Every pump's drive-end bearing wears from a random onset to a failure a random 2–8 days later, after
 * which the simulated crew replaces it (a maintenance message) and the pump runs healthy. Each pump's
 * messages are replayed through the twin's own feature code (`replayFeatures`), so the models learn the
 * exact vectors they will be served. Labels are point-in-time: at row time t, with the failure at F,
 * `failure` = F − t ≤ 24 h and `rul` = min(F − t, 14 d) in ms (clock units: the model outputs what
 * `Prediction.rul` carries, no conversion). Rows after the replacement are healthy and censored: they are
 * kept only where the simulation runs on for at least the horizon (failure) or the cap (rul).
 *
 * Pumps are split into train / validation / test groups, so no pump's rows leak across: validation drives
 * early stopping and the decision threshold, test gives the reported metrics.
 */
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import { type FleetAsset, FleetSimulator } from '../../devices/fleet.ts';
import { Rng, seedFor } from '../../devices/rng.ts';
import { dataHasher } from '../bundle/hash.ts';
import { type ReplayEvent, replayEventsOf, replayFeatures } from '../features/replay.ts';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import { auc, type TrainParams, train } from '../gbdt/index.ts';
import type { AssetModelPredictors, PredictorArtifact } from './types.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';
import { calibrateAll, chooseThresholds, type DecisionSeries, fitIsotonic, simulateAlerts, type ThresholdChoice } from './decision.ts';
import type { Calibration } from '../../lambdas/core/model/decision.ts';
import { downtimeHoursOf } from '../../lambdas/core/catalog/types.ts';
import { defaultAlertPolicy } from '../../lambdas/core/alerts/policy.ts';
import { defaultHealthPolicy } from '../../lambdas/core/twin/health.ts';

export const PUMP_MODEL_ID = 'centrifugal-pump';
const HOUR = 3_600_000;
/** Failure horizon: P(the bearing fails within the next 24 h). */
export const PUMP_HORIZON_MS = 24 * HOUR;
/** RUL target cap; equals the time models' default RUL risk horizon, beyond which RUL carries no risk. */
export const PUMP_RUL_CAP_MS = 14 * 24 * HOUR;
const INTERVAL_MS = 600_000;
/**
 * Look-ahead the alert thresholds are chosen for: an alert counts as a catch when the failure follows
 * within 72 h, else as false; the same as the industrial machine's (ml/train/industrial-machine.ts).
 */
export const PUMP_ALERT_HORIZON_MS = 72 * HOUR;
/** Folds (by pump) of the out-of-fold predictions the calibration and thresholds are fitted on. */
export const PUMP_CALIBRATION_FOLDS = 5;
const TICKS_PER_DAY = (24 * HOUR) / INTERVAL_MS;

export interface PumpTrainOptions {
  /** @default 1 */
  readonly seed?: number;
  /** Simulated pumps (all run to failure once). @default 48 */
  readonly pumps?: number;
  /** Keep every k-th replayed row: neighbouring 10-minute rows are near duplicates. @default 3 */
  readonly rowStride?: number;
  /** Boosting rounds before early stopping. @default 200 */
  readonly rounds?: number;
  /** @default 4 */
  readonly maxDepth?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
}

/** Engine features the pump models do not read: fleet age and counters are artefacts of the simulation. */
const EXCLUDED = (name: string) => name === 'samples_seen' || name.startsWith('op_age_') || name.startsWith('attr_');

/** One group's rows: float32 matrix plus labels. `NaN` label = censored for that target. */
export interface PumpRows {
  readonly x: Float32Array;
  readonly n: number;
  readonly failure: Float32Array;
  readonly rul: Float32Array;
  /** Pump index of each row. */
  readonly pump: Int32Array;
  /** Clock time (ms) of each row. */
  readonly t: Float64Array;
}

export interface PumpDataset {
  readonly featureNames: readonly string[];
  readonly train: PumpRows;
  readonly valid: PumpRows;
  readonly test: PumpRows;
  readonly hash: string;
  readonly description: string;
  readonly simulatedSamples: number;
  /** Time (ms) of each pump's bearing failure (its replacement), by pump index; +∞ if none. */
  readonly failAt: readonly number[];
}

/**
 * The simulated fleet: bearing onset 7–10 days in, failure 2–8 days after onset. The first week is the
 * longest feature window: without it the windows' warm-up would reveal time since start, which in a
 * simulation where everything starts at once predicts the failure time (measured: the RUL model then
 * stopped improving after ~20 trees on validation pumps).
 */
export function pumpFleet(pumps: number, seed: number): FleetAsset[] {
  const rng = new Rng(seedFor(seed, 'pump-fleet'));
  return Array.from({ length: pumps }, (_, i) => {
    const startTick = 7 * TICKS_PER_DAY + rng.int(3 * TICKS_PER_DAY);
    const span = 2 * TICKS_PER_DAY + rng.int(6 * TICKS_PER_DAY);
    return {
      assetId: `pump-${String(i + 1).padStart(3, '0')}`,
      siteId: `site-${String.fromCharCode(97 + (i % 3))}`,
      modelId: PUMP_MODEL_ID,
      degradation: { component: 'bearing', startTick, failTick: startTick + span },
    };
  });
}

/** Simulates the fleet to one day past the last failure and returns each pump's events. */
export function simulatePumps(
  fleet: readonly FleetAsset[],
  seed: number,
): { events: Map<string, ReplayEvent[]>; failAt: Map<string, number>; end: number } {
  const lastFail = Math.max(...fleet.map((a) => a.degradation?.failTick ?? 0));
  // Device events on, as `npm start` runs the fleet: the models learn the event counts they are served.
  const sim = new FleetSimulator(fleet, { seed, intervalMs: INTERVAL_MS, events: true });
  const events = new Map<string, ReplayEvent[]>(fleet.map((a) => [a.assetId, []]));
  const failAt = new Map<string, number>();
  const ticks = lastFail + TICKS_PER_DAY + 1;
  for (let t = 0; t < ticks; t++) {
    for (const m of sim.step()) {
      if (m.topic.endsWith('/events')) {
        events.get(m.assetId)!.push(...replayEventsOf(m.payload));
        continue;
      }
      const body = JSON.parse(m.payload) as {
        ts: number;
        seq?: number;
        readings?: Record<string, number>;
        kind?: 'inspection' | 'repair' | 'replacement';
        component?: string;
      };
      const list = events.get(m.assetId)!;
      if (m.topic.endsWith('/maintenance')) {
        list.push({
          kind: 'maintenance',
          ts: body.ts,
          action: body.kind ?? 'replacement',
          ...(body.component ? { component: body.component } : {}),
        });
        if (body.kind === 'replacement' && !failAt.has(m.assetId)) failAt.set(m.assetId, body.ts);
      } else {
        list.push({ kind: 'sample', ts: body.ts, seq: body.seq ?? 0, readings: body.readings ?? {} });
      }
    }
  }
  return { events, failAt, end: sim.now - INTERVAL_MS };
}

/** Splits pump indices into train / validation / test (60/20/20), shuffled by the seed. */
export function splitPumps(count: number, seed: number): { train: number[]; valid: number[]; test: number[] } {
  const rng = new Rng(seedFor(seed, 'pump-split'));
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nTest = Math.max(1, Math.round(count * 0.2));
  const nValid = Math.max(1, Math.round(count * 0.2));
  return {
    test: order.slice(0, nTest),
    valid: order.slice(nTest, nTest + nValid),
    train: order.slice(nTest + nValid),
  };
}

/** Simulates, replays and labels the fleet. */
export function buildPumpDataset(opts: PumpTrainOptions = {}): PumpDataset {
  const seed = opts.seed ?? 1;
  const pumps = opts.pumps ?? 48;
  const stride = opts.rowStride ?? 3;
  const model = getAssetModel(PUMP_MODEL_ID);
  const engineNames = featureNames(model);
  const keep = engineNames.map((n, i) => ({ n, i })).filter(({ n }) => !EXCLUDED(n));
  const names = keep.map(({ n }) => n);
  const fleet = pumpFleet(pumps, seed);
  const { events, failAt, end } = simulatePumps(fleet, seed);
  const hasher = dataHasher();
  hasher.update(`pdm.pump-training.v1 seed=${seed} pumps=${pumps} stride=${stride}\n${names.join(',')}\n`);
  const perPump: { x: number[]; failure: number[]; rul: number[]; t: number[] }[] = [];
  let simulatedSamples = 0;
  for (const asset of fleet) {
    const history = events.get(asset.assetId)!;
    // The generated data itself, canonically: the replayed events in order.
    hasher.update(`${asset.assetId}\n${JSON.stringify(history)}\n`);
    simulatedSamples += history.filter((e) => e.kind === 'sample').length;
    const fail = failAt.get(asset.assetId) ?? Number.POSITIVE_INFINITY;
    const { rows } = replayFeatures(model, asset, history);
    const x: number[] = [];
    const failure: number[] = [];
    const rul: number[] = [];
    const times: number[] = [];
    for (let r = 0; r < rows.length; r += stride) {
      const row = rows[r]!;
      const t = row.t;
      let yFail: number;
      let yRul: number;
      if (t < fail) {
        yFail = fail - t <= PUMP_HORIZON_MS ? 1 : 0;
        yRul = Math.min(fail - t, PUMP_RUL_CAP_MS);
      } else {
        // After the replacement nothing fails before the simulation ends: censored at the end.
        yFail = end - t >= PUMP_HORIZON_MS ? 0 : Number.NaN;
        yRul = end - t >= PUMP_RUL_CAP_MS ? PUMP_RUL_CAP_MS : Number.NaN;
      }
      if (Number.isNaN(yFail) && Number.isNaN(yRul)) continue;
      for (const { i } of keep) x.push(row.vector[i]!);
      failure.push(yFail);
      rul.push(yRul);
      times.push(t);
    }
    perPump.push({ x, failure, rul, t: times });
  }
  const split = splitPumps(pumps, seed);
  const gather = (ids: number[]): PumpRows => {
    const n = ids.reduce((s, p) => s + perPump[p]!.failure.length, 0);
    const out: PumpRows = {
      x: new Float32Array(n * names.length),
      n,
      failure: new Float32Array(n),
      rul: new Float32Array(n),
      pump: new Int32Array(n),
      t: new Float64Array(n),
    };
    let at = 0;
    for (const p of ids) {
      const d = perPump[p]!;
      out.x.set(d.x, at * names.length);
      out.failure.set(d.failure, at);
      out.rul.set(d.rul, at);
      out.pump.fill(p, at, at + d.failure.length);
      out.t.set(d.t, at);
      at += d.failure.length;
    }
    return out;
  };
  return {
    featureNames: names,
    train: gather(split.train),
    valid: gather(split.valid),
    test: gather(split.test),
    hash: hasher.hex(),
    description: `simulated run-to-failure fleet: ${pumps} centrifugal pumps, a healthy week, then bearing wear over 2–8 days, 10-min samples, seed ${seed} (devices/fleet.ts, ml/train/pump.ts)`,
    simulatedSamples,
    failAt: fleet.map((a) => failAt.get(a.assetId) ?? Number.POSITIVE_INFINITY),
  };
}

/** Rows of `d` whose `label` is known (not censored), as a trainer dataset. */
function labelled(d: PumpRows, label: Float32Array, f: number, names: readonly string[]) {
  const idx: number[] = [];
  for (let i = 0; i < d.n; i++) if (!Number.isNaN(label[i]!)) idx.push(i);
  const x = new Float32Array(idx.length * f);
  const y = new Float32Array(idx.length);
  idx.forEach((r, k) => {
    x.set(d.x.subarray(r * f, r * f + f), k * f);
    y[k] = label[r]!;
  });
  return { x, n: idx.length, f, y, featureNames: [...names] };
}

/**
 * The rows the pump predictors train on: every row of the training pumps (each has at least one known
 * label), all columns. The drift reference is binned over it.
 */
export function pumpTrainingMatrix(data: PumpDataset): TrainingMatrix {
  return {
    names: data.featureNames,
    x: data.train.x,
    n: data.train.n,
    source: `${data.description}: training pumps' rows`,
    // The rows are every `stride`-th tick; a served pump sends one every tick.
    keys: { asset: data.train.pump, t: data.train.t, serviceIntervalMs: INTERVAL_MS },
  };
}

/** Training rows of each pump predictor (`labelled` on the training pumps), as the manifest records them. */
export function pumpTrainingRows(data: PumpDataset): Record<string, number> {
  const known = (label: Float32Array) => label.reduce((a, v) => a + (Number.isNaN(v) ? 0 : 1), 0);
  return { failure: known(data.train.failure), rul: known(data.train.rul) };
}

/** Average precision (area under the precision–recall curve, step-wise). */
export function averagePrecision(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  const positives = idx.reduce((s, i) => s + y[i]!, 0);
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let ap = 0;
  idx.forEach((i, k) => {
    if (y[i] === 1) {
      tp += 1;
      ap += tp / (k + 1);
    }
  });
  return ap / positives;
}

/** Precision, recall and F1 at a threshold. */
export function f1At(p: ArrayLike<number>, y: ArrayLike<number>, threshold: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < p.length; i++) {
    const hit = p[i]! >= threshold;
    if (hit && y[i] === 1) tp++;
    else if (hit) fp++;
    else if (y[i] === 1) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

const sigmoid = (m: number) => 1 / (1 + Math.exp(-m));
const round = (v: number, digits = 4) => Number(v.toFixed(digits));

/** Rows of several groups, in group order. */
function concatRows(parts: readonly PumpRows[], f: number): PumpRows {
  const n = parts.reduce((s, d) => s + d.n, 0);
  const out: PumpRows = {
    x: new Float32Array(n * f),
    n,
    failure: new Float32Array(n),
    rul: new Float32Array(n),
    pump: new Int32Array(n),
    t: new Float64Array(n),
  };
  let at = 0;
  for (const d of parts) {
    out.x.set(d.x, at * f);
    out.failure.set(d.failure, at);
    out.rul.set(d.rul, at);
    out.pump.set(d.pump, at);
    out.t.set(d.t, at);
    at += d.n;
  }
  return out;
}

/** Rows of `d` whose pump is (or, with `invert`, is not) in `pumps`. */
function rowsOfPumps(d: PumpRows, pumps: ReadonlySet<number>, f: number, invert = false): PumpRows {
  const keep: number[] = [];
  for (let i = 0; i < d.n; i++) if (pumps.has(d.pump[i]!) !== invert) keep.push(i);
  const out: PumpRows = {
    x: new Float32Array(keep.length * f),
    n: keep.length,
    failure: new Float32Array(keep.length),
    rul: new Float32Array(keep.length),
    pump: new Int32Array(keep.length),
    t: new Float64Array(keep.length),
  };
  keep.forEach((r, k) => {
    out.x.set(d.x.subarray(r * f, r * f + f), k * f);
    out.failure[k] = d.failure[r]!;
    out.rul[k] = d.rul[r]!;
    out.pump[k] = d.pump[r]!;
    out.t[k] = d.t[r]!;
  });
  return out;
}

/** One series per pump of labelled rows: times, calibrated probabilities, the bearing failure. */
function pumpSeries(rows: PumpRows, p: ArrayLike<number>, failAt: readonly number[]): DecisionSeries[] {
  const by = new Map<number, { t: number[]; p: number[] }>();
  for (let i = 0; i < rows.n; i++) {
    if (Number.isNaN(rows.failure[i]!)) continue;
    const k = rows.pump[i]!;
    let s = by.get(k);
    if (!s) by.set(k, (s = { t: [], p: [] }));
    s.t.push(rows.t[i]!);
    s.p.push(p[i]!);
  }
  return [...by].map(([k, s]) => {
    const f = failAt[k]!;
    const failures = Number.isFinite(f) ? [f] : [];
    return { key: `pump-${k}`, t: s.t, p: s.p, failures, resets: failures };
  });
}

/** Calibration and alert thresholds of the failure classifier, and which pumps they were fitted on. */
export interface PumpFailureDecisions {
  readonly calibration: Calibration;
  readonly choice: ThresholdChoice;
  /** Pump indices whose out-of-fold rows the calibration and thresholds were fitted on. */
  readonly pumps: readonly number[];
  /** Out-of-fold scores (raw) and labels, for the reported validation metrics. */
  readonly raw: Float64Array;
  readonly y: Float32Array;
}

/**
 * Fits the failure classifier's calibration and alert thresholds on out-of-fold predictions over the
 * training and validation pumps: the pumps are cut into folds, and each fold is scored by a model
 * fitted on the other folds with `rounds` trees (the count early stopping chose). Test pumps never
 * enter, so the test figures stay out of sample.
 */
export function fitPumpFailureDecisions(
  data: PumpDataset,
  params: Partial<TrainParams>,
  rounds: number,
  seed: number,
): PumpFailureDecisions {
  const names = data.featureNames;
  const f = names.length;
  const pool = concatRows([data.train, data.valid], f);
  const pumps = [...new Set(pool.pump)].sort((a, b) => a - b);
  const rng = new Rng(seedFor(seed, 'pump-calibration-folds'));
  for (let i = pumps.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [pumps[i], pumps[j]] = [pumps[j]!, pumps[i]!];
  }
  const k = Math.min(PUMP_CALIBRATION_FOLDS, pumps.length);
  const fixed: Partial<TrainParams> = { ...params, nRounds: rounds, earlyStoppingRounds: undefined };
  const scored: PumpRows[] = [];
  const raws: Float64Array[] = [];
  for (let fold = 0; fold < k; fold++) {
    const held = new Set(pumps.filter((_, i) => i % k === fold));
    const fit = rowsOfPumps(pool, held, f, true);
    const out = rowsOfPumps(pool, held, f);
    const model = train(fixed, labelled(fit, fit.failure, f, names));
    scored.push(out);
    raws.push(scoreWith(model.toXgboostJson(), out.x, out.n));
  }
  const all = concatRows(scored, f);
  const allRaw = new Float64Array(all.n);
  let at = 0;
  for (const r of raws) {
    allRaw.set(r, at);
    at += r.length;
  }
  const keep = Array.from(all.failure, (y, i) => (Number.isNaN(y) ? -1 : i)).filter((i) => i >= 0);
  const raw = Float64Array.from(keep, (i) => allRaw[i]!);
  const y = Float32Array.from(keep, (i) => all.failure[i]!);
  const calibration = fitIsotonic(raw, y);
  const model = getAssetModel(PUMP_MODEL_ID);
  const choice = chooseThresholds(pumpSeries(all, calibrateAll(calibration, allRaw), data.failAt), {
    health: defaultHealthPolicy('time'),
    alert: defaultAlertPolicy('time', model.downtimeCostPerHour),
    downtime: downtimeHoursOf(model),
    horizon: PUMP_ALERT_HORIZON_MS,
    describe: `out-of-fold rows of the ${pumps.length} training and validation pumps (${k} folds by pump, each scored by a model fitted without it)`,
  });
  return { calibration, choice, pumps: [...pumps].sort((a, b) => a - b), raw, y };
}

/** Trains the pump's `failure` (24 h) and `rul` predictors. Deterministic for a seed. */
export function trainPumpPredictors(opts: PumpTrainOptions = {}): AssetModelPredictors {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 1;
  const data = buildPumpDataset(opts);
  const names = data.featureNames;
  const f = names.length;
  log(
    `centrifugal-pump: ${data.simulatedSamples} simulated samples → ${data.train.n}/${data.valid.n}/${data.test.n} train/valid/test rows, ${f} features`,
  );
  const common: Partial<TrainParams> = {
    nRounds: opts.rounds ?? 200,
    eta: 0.1,
    maxDepth: opts.maxDepth ?? 4,
    minChildWeight: 1,
    subsample: 0.8,
    colsampleBytree: 0.8,
    maxBin: 64,
    seed,
    earlyStoppingRounds: 20,
  };

  // failure: P(fails within 24 h)
  const fTrain = labelled(data.train, data.train.failure, f, names);
  const fValid = labelled(data.valid, data.valid.failure, f, names);
  const fTest = labelled(data.test, data.test.failure, f, names);
  const failParams: Partial<TrainParams> = { ...common, objective: 'binary:logistic', evalMetric: 'logloss' };
  const failModel = train(failParams, fTrain, fValid);
  const validP = Array.from(failModel.validMargins, sigmoid);
  // The threshold is chosen on validation pumps (best F1), then reported on test pumps.
  let threshold = 0.5;
  let bestF1 = -1;
  for (let t = 0.05; t < 0.96; t += 0.05) {
    const { f1 } = f1At(validP, fValid.y, t);
    if (f1 > bestF1) [bestF1, threshold] = [f1, round(t, 2)];
  }
  const testP = scoreWith(failModel.toXgboostJson(), fTest.x, fTest.n);
  const at = f1At(testP, fTest.y, threshold);
  const failMetrics: Record<string, number> = {
    rocAuc: round(auc(testP, fTest.y)),
    prAuc: round(averagePrecision(testP, fTest.y)),
    f1: round(at.f1),
    precision: round(at.precision),
    recall: round(at.recall),
    positiveShare: round(fTest.y.reduce((s, v) => s + v, 0) / fTest.n),
    testRows: fTest.n,
  };
  // Calibration and alert thresholds: out of fold on training and validation pumps, then the alerts
  // they give on the test pumps through the twin's state machine, with the served model.
  const decisions = fitPumpFailureDecisions(data, failParams, failModel.trees.length, seed);
  const testSim = simulateAlerts(
    pumpSeries(data.test, calibrateAll(decisions.calibration, scoreWith(failModel.toXgboostJson(), data.test.x, data.test.n)), data.failAt),
    decisions.choice.thresholds.warning,
    {
      health: defaultHealthPolicy('time'),
      alert: defaultAlertPolicy('time', getAssetModel(PUMP_MODEL_ID).downtimeCostPerHour),
      downtime: downtimeHoursOf(getAssetModel(PUMP_MODEL_ID)),
      horizon: PUMP_ALERT_HORIZON_MS,
      describe: 'test pumps',
    },
  );
  Object.assign(failMetrics, {
    validRows: decisions.raw.length,
    validFailures: decisions.choice.warning.failures,
    validFailuresCaught: decisions.choice.warning.caught,
    validAlerts: decisions.choice.warning.alerts,
    validFalseAlerts: decisions.choice.warning.falseAlerts,
    testFailures: testSim.failures,
    testFailuresCaught: testSim.caught,
    testAlerts: testSim.alerts,
    testFalseAlerts: testSim.falseAlerts,
  });
  log(`  failure: ${failModel.trees.length} trees, test ${JSON.stringify(failMetrics)}`);

  // rul: ms to failure, capped at 14 d. The base score starts at the mean label so early trees fit shape, not scale.
  const rTrain = labelled(data.train, data.train.rul, f, names);
  const rValid = labelled(data.valid, data.valid.rul, f, names);
  const rTest = labelled(data.test, data.test.rul, f, names);
  const meanRul = rTrain.y.reduce((s, v) => s + v, 0) / rTrain.n;
  const rulParams: Partial<TrainParams> = {
    ...common,
    objective: 'reg:squarederror',
    baseScore: Math.fround(meanRul),
    earlyStoppingRounds: 50,
  };
  const rulModel = train(rulParams, rTrain, rValid);
  const testRul = scoreWith(rulModel.toXgboostJson(), rTest.x, rTest.n);
  let se = 0;
  let ae = 0;
  let seNear = 0;
  let nNear = 0;
  for (let i = 0; i < rTest.n; i++) {
    const err = (Math.max(0, testRul[i]!) - rTest.y[i]!) / HOUR;
    se += err * err;
    ae += Math.abs(err);
    if (rTest.y[i]! <= 2 * PUMP_HORIZON_MS) {
      seNear += err * err;
      nNear++;
    }
  }
  const rulMetrics = {
    rmseHours: round(Math.sqrt(se / rTest.n), 2),
    maeHours: round(ae / rTest.n, 2),
    rmseHoursLast48h: round(Math.sqrt(seNear / Math.max(1, nNear)), 2),
    testRows: rTest.n,
  };
  log(`  rul: ${rulModel.trees.length} trees, test ${JSON.stringify(rulMetrics)}`);

  const base = {
    featureNames: names,
    trainingDataHash: data.hash,
    trainingData: data.description,
  };
  const failure: PredictorArtifact = {
    ...base,
    name: 'failure',
    kind: 'failure',
    horizon: PUMP_HORIZON_MS,
    modelJson: failModel.toXgboostJson(),
    threshold,
    calibration: decisions.calibration,
    alertThresholds: decisions.choice.thresholds,
    metrics: failMetrics,
    trainingRows: fTrain.n,
    params: paramsRecord(failParams, failModel.trees.length),
  };
  const rul: PredictorArtifact = {
    ...base,
    name: 'rul',
    kind: 'rul',
    rulCap: PUMP_RUL_CAP_MS,
    modelJson: rulModel.toXgboostJson(),
    metrics: rulMetrics,
    trainingRows: rTrain.n,
    params: paramsRecord(rulParams, rulModel.trees.length),
  };
  return { modelId: PUMP_MODEL_ID, predictors: [failure, rul], trainingMatrix: pumpTrainingMatrix(data) };
}

function paramsRecord(p: Partial<TrainParams>, trees: number): Record<string, number | string> {
  const out: Record<string, number | string> = { trainer: 'ml/gbdt', keptTrees: trees };
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}

/** Scores with the serving evaluator, so the metrics are those of the artifact that ships. */
function scoreWith(json: string, x: Float32Array, n: number): Float64Array {
  return predictBatch(loadXgboostModel(json), x, n);
}
