/**
 * In-process scoring from a model bundle: the `RowScorer` the pipeline calls with one asset's feature
 * rows. Each predictor gathers its columns from the engine's vectors into one float32 matrix and scores
 * the whole batch in one `predictBatch` call. TreeSHAP, which costs milliseconds per row, runs only for
 * rows whose risk is high enough for someone to ask "why".
 */
import type { ContributingSensor } from '../alerts/policy.ts';
import type { AssetModel } from '../catalog/types.ts';
import { featureLayout } from '../features/index.ts';
import type { RowScorer } from '../pipeline.ts';
import type { FeatureRow, Prediction, ScoredBy, Twin } from '../twin/twin.ts';
import { defaultRiskPolicy } from '../twin/twin.ts';
import type { BundleAssetModel, BundlePredictor, ModelBundle } from './bundle.ts';
import { FeatureCountError } from './errors.ts';
import { calibrate, riskFromProbability } from './decision.ts';
import { rulBounds } from './interval.ts';
import { predictBatch } from './predict.ts';
import { contributions } from './shap.ts';

export interface BundleScorerOptions {
  /**
   * Rows whose risk (the failure probability, or the RUL risk `1 - rul / rulHorizon`) reaches this value
   * get TreeSHAP contributors; the others keep the anomaly score's contributors.
   * @default 0.5
   */
  readonly explainFrom?: number;
  /** RUL (clock units) at which RUL risk starts to rise, per clock. @default defaultRiskPolicy(clock).rulHorizon */
  readonly rulHorizon?: (model: AssetModel) => number;
  /** Sensors reported per explained row. @default 3 */
  readonly topSensors?: number;
  /** Written to `Prediction.scoredBy`. @default 'in-process' */
  readonly scoredBy?: ScoredBy;
}

/** Per-predictor scratch, grown to the largest batch seen so scoring allocates only results. */
interface Lane {
  readonly predictor: BundlePredictor;
  x: Float32Array;
  out: Float64Array;
}

interface Explainer {
  readonly lane: Lane;
  /** Sensor index per model column, -1 for features that are not a sensor's (age, attributes, …). */
  readonly sensorOf: Int32Array;
  readonly sensors: readonly string[];
  readonly contrib: Float64Array;
  readonly perSensor: Float64Array;
}

interface Plan {
  readonly entry: BundleAssetModel;
  readonly vectorLength: number;
  readonly failure: Lane | null;
  readonly rul: Lane | null;
  readonly components: readonly Lane[];
  readonly explainer: Explainer | null;
}

const lane = (predictor: BundlePredictor): Lane => ({
  predictor,
  x: new Float32Array(0),
  out: new Float64Array(0),
});

/**
 * Maps each feature name to the sensor it is computed from: `vibration_mean_24h` → `vibration`. The
 * longest matching sensor prefix wins, so a sensor named `flow_in` is not taken for `flow`.
 */
export function sensorIndexOfFeatures(names: readonly string[], sensors: readonly string[]): Int32Array {
  const bySpecificity = sensors.map((s, i) => ({ s, i })).sort((a, b) => b.s.length - a.s.length);
  return Int32Array.from(names, (name) => bySpecificity.find(({ s }) => name.startsWith(`${s}_`))?.i ?? -1);
}

function planFor(entry: BundleAssetModel): Plan {
  const layout = featureLayout(entry.assetModel);
  const failure = entry.failure ? lane(entry.failure) : null;
  const rul = entry.rul ? lane(entry.rul) : null;
  const explained = failure ?? rul;
  let explainer: Explainer | null = null;
  if (explained?.predictor.model.shapSupported) {
    const { model, entry: pe } = explained.predictor;
    explainer = {
      lane: explained,
      sensorOf: sensorIndexOfFeatures(pe.featureNames, layout.sensors),
      sensors: layout.sensors,
      contrib: new Float64Array(model.numFeatures + 1),
      perSensor: new Float64Array(layout.sensors.length),
    };
  }
  return {
    entry,
    vectorLength: layout.names.length,
    failure,
    rul,
    components: entry.components.map(lane),
    explainer,
  };
}

/** Gathers the lane's columns of every row into its float32 matrix and scores it in one call. */
function scoreLane(l: Lane, rows: readonly FeatureRow[], vectorLength: number): Float64Array {
  const { columns, model } = l.predictor;
  const k = columns.length;
  const n = rows.length;
  if (l.x.length < n * k) l.x = new Float32Array(n * k);
  if (l.out.length < n) l.out = new Float64Array(n);
  const x = l.x;
  for (let i = 0; i < n; i++) {
    const v = rows[i]!.vector;
    if (v.length !== vectorLength) {
      throw new FeatureCountError(
        `feature row ${i} (seq ${rows[i]!.seq}) has ${v.length} values, the feature engine makes ${vectorLength}; was the row built with vectors on?`,
      );
    }
    const base = i * k;
    for (let j = 0; j < k; j++) x[base + j] = v[columns[j]!]!;
  }
  return predictBatch(model, x, n, l.out);
}

/** Top sensors by share of |SHAP| over the sensor features of one row (shares of all sensors sum to 1). */
function explainRow(e: Explainer, x: Float32Array, top: number): ContributingSensor[] | undefined {
  const { model, columns } = e.lane.predictor;
  const k = columns.length;
  const c = contributions(model, x, e.contrib);
  const per = e.perSensor;
  per.fill(0);
  let total = 0;
  for (let j = 0; j < k; j++) {
    const s = e.sensorOf[j]!;
    if (s < 0) continue;
    const a = Math.abs(c[j]!);
    per[s]! += a;
    total += a;
  }
  if (!(total > 0)) return undefined;
  const ranked: ContributingSensor[] = [];
  for (let s = 0; s < per.length; s++) {
    if (per[s]! > 0) ranked.push({ sensor: e.sensors[s]!, share: per[s]! / total });
  }
  ranked.sort((a, b) => b.share - a.share || (a.sensor < b.sensor ? -1 : 1));
  return ranked.slice(0, top);
}

/**
 * The RUL fields of a prediction from the RUL predictor's raw output: `rul` floored at 0 and, when
 * the manifest entry carries an interval, its bounds; all null without a RUL predictor. The in-process
 * scorer and the endpoint scorer both go through it, so both paths return the same interval.
 */
export function rulFields(
  predictor: BundlePredictor | null,
  raw: number | undefined,
): { rul: number | null; rulLower: number | null; rulUpper: number | null } {
  if (predictor === null || raw === undefined) return { rul: null, rulLower: null, rulUpper: null };
  const rul = Math.max(0, raw);
  const { interval, rulCap } = predictor.entry;
  if (interval === undefined) return { rul, rulLower: null, rulUpper: null };
  const b = rulBounds(interval, rul, rulCap);
  return { rul, rulLower: b.lower, rulUpper: b.upper };
}

/**
 * A {@link RowScorer} serving every asset model the bundle has predictors for; other asset models get
 * `null` predictions. `rul` is in clock units (ms for time models, cycles for cycle models), as the
 * model is trained to output, floored at 0.
 */
export function createBundleScorer(bundle: ModelBundle, opts: BundleScorerOptions = {}): RowScorer {
  const explainFrom = opts.explainFrom ?? 0.5;
  const top = opts.topSensors ?? 3;
  const scoredBy = opts.scoredBy ?? 'in-process';
  const horizonOf = opts.rulHorizon ?? ((m: AssetModel) => defaultRiskPolicy(m.clock).rulHorizon);
  const plans = new Map<string, Plan>();
  for (const [id, entry] of bundle.models) {
    if (entry.predictors.length > 0) plans.set(id, planFor(entry));
  }
  return (model: AssetModel, _twin: Twin, rows: readonly FeatureRow[]): (Prediction | null)[] => {
    const plan = plans.get(model.id);
    if (!plan) return rows.map(() => null);
    const n = rows.length;
    const pFail = plan.failure ? scoreLane(plan.failure, rows, plan.vectorLength) : null;
    const rul = plan.rul ? scoreLane(plan.rul, rows, plan.vectorLength) : null;
    const comps = plan.components.map((l) => scoreLane(l, rows, plan.vectorLength));
    const rulHorizon = horizonOf(model);
    const out = new Array<Prediction | null>(n);
    const failureEntry = plan.failure?.predictor.entry;
    for (let i = 0; i < n; i++) {
      const p = pFail ? calibrate(failureEntry?.calibration, pFail[i]!) : null;
      const rf = rulFields(plan.rul?.predictor ?? null, rul?.[i]);
      const r = rf.rul;
      let componentFailure: Record<string, number> | undefined;
      if (comps.length > 0) {
        componentFailure = {};
        for (let c = 0; c < comps.length; c++) {
          const entry = plan.components[c]!.predictor.entry;
          componentFailure[entry.component!] = calibrate(entry.calibration, comps[c]![i]!);
        }
      }
      const risk = Math.max(explainRisk(p, failureEntry?.alertThresholds), r === null ? 0 : 1 - r / rulHorizon);
      const prediction: Prediction = {
        failureProbability: p,
        ...rf,
        ...(componentFailure ? { componentFailure } : {}),
        scoredBy,
      };
      if (plan.explainer && risk >= explainFrom) {
        const k = plan.explainer.lane.predictor.columns.length;
        explainLazily(prediction, plan.explainer, plan.explainer.lane.x.slice(i * k, i * k + k), top);
      }
      out[i] = prediction;
    }
    return out;
  };
}

/** Default health anchors: explaining is a cost decision, so the default policy's scale is enough here. */
const EXPLAIN_ANCHORS = { WATCH: 0.5, WARNING: 0.7, CRITICAL: 0.9 } as const;

/** A failure probability on the health scale, through the predictor's thresholds when it has them. */
function explainRisk(p: number | null, thresholds: Parameters<typeof riskFromProbability>[1] | undefined): number {
  if (p === null) return 0;
  return thresholds ? riskFromProbability(p, thresholds, EXPLAIN_ANCHORS) : p;
}

/**
 * Gives the prediction a `topContributors` computed on first read. TreeSHAP costs about 250 µs a row
 * and the twin reads contributors only for its newest row and for rows that change its health, so
 * most risky rows of a batch are never explained. `x` is the row's own copy of the explained
 * predictor's columns (the lane's matrix is reused by the next call).
 */
function explainLazily(prediction: Prediction, e: Explainer, x: Float32Array, top: number): void {
  let value: ContributingSensor[] | undefined;
  let done = false;
  Object.defineProperty(prediction, 'topContributors', {
    enumerable: true,
    get() {
      if (!done) {
        value = explainRow(e, x, top);
        done = true;
      }
      return value;
    },
  });
}

/** Adds contributors to predictions made elsewhere (e.g. by an endpoint) for the same rows. */
export type PredictionExplainer = (model: AssetModel, rows: readonly FeatureRow[], predictions: readonly (Prediction | null)[]) => void;

/**
 * TreeSHAP contributors, computed on first read like {@link createBundleScorer}'s, for predictions
 * another scorer made from the bundle's model files: an endpoint's predictions then carry the same
 * contributors as the in-process ones, so a twin scored by the endpoint or by its fallback differs
 * only in `scoredBy`. Rows below `explainFrom` risk, and asset models without an explainable
 * predictor, are left as they are.
 */
export function createBundleExplainer(bundle: ModelBundle, opts: BundleScorerOptions = {}): PredictionExplainer {
  const explainFrom = opts.explainFrom ?? 0.5;
  const top = opts.topSensors ?? 3;
  const horizonOf = opts.rulHorizon ?? ((m: AssetModel) => defaultRiskPolicy(m.clock).rulHorizon);
  const explainers = new Map<string, Explainer>();
  for (const [id, entry] of bundle.models) {
    const e = entry.predictors.length > 0 ? planFor(entry).explainer : null;
    if (e) explainers.set(id, e);
  }
  return (model, rows, predictions) => {
    const e = explainers.get(model.id);
    if (!e) return;
    const rulHorizon = horizonOf(model);
    const { columns } = e.lane.predictor;
    predictions.forEach((p, i) => {
      if (!p) return;
      const risk = Math.max(
        explainRisk(p.failureProbability, bundle.models.get(model.id)?.failure?.entry.alertThresholds),
        p.rul === null ? 0 : 1 - p.rul / rulHorizon,
      );
      if (risk < explainFrom) return;
      const v = rows[i]!.vector;
      explainLazily(p, e, Float32Array.from(columns, (c) => v[c]!), top);
    });
  };
}

/** A feature value cannot be sent as CSV: the container reads only finite numbers and empty cells. */
export class FeatureValueError extends Error {
  override readonly name: string = 'FeatureValueError';
}

/**
 * The rows as the CSV body SageMaker's built-in XGBoost container reads (`text/csv`): one line per row,
 * the predictor's columns in manifest order, no header, an empty cell for a missing (NaN) value. Each
 * value is written as its float32 value in shortest float64 form, which the container parses back to
 * exactly the float32 the in-process scorer uses.
 */
export function csvRowsForEndpoint(predictor: BundlePredictor, rows: readonly FeatureRow[]): string {
  const { columns } = predictor;
  const lines = new Array<string>(rows.length);
  const cells = new Array<string>(columns.length);
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]!.vector;
    for (let j = 0; j < columns.length; j++) {
      const x = v[columns[j]!];
      if (x === undefined) {
        throw new FeatureCountError(`feature row ${i} has ${v.length} values; column ${columns[j]} is missing`);
      }
      if (Number.isNaN(x)) cells[j] = '';
      else if (!Number.isFinite(x)) {
        throw new FeatureValueError(`feature row ${i}, ${predictor.entry.featureNames[j]} is ${x}`);
      } else {
        const f = Math.fround(x);
        cells[j] = f === 0 && 1 / f < 0 ? '-0' : String(f); // String(-0) is "0"
      }
    }
    lines[i] = cells.join(',');
  }
  return lines.join('\n');
}
