/**
 * The training matrix `pdm history export` writes: SageMaker's built-in XGBoost CSV (label in the first
 * column, no header, features in the order the model bundle's manifest lists them), built from the
 * history's feature rows and failure evidence. Pure.
 *
 * Label (failure predictor): 1 when a repair or replacement of the asset follows the row within the
 * horizon, else 0. A row whose horizon reaches past the end of the asset's observed history is left
 * out (censored: its label is not known yet), the same rule the trainers apply.
 */
import { timeSplit } from './labels.ts';

export interface TrainingFeatureRow {
  readonly assetId: string;
  readonly seq: number;
  /** Epoch ms. */
  readonly ts: number;
  /** In the order of `engineNames`; null = undefined feature. */
  readonly vector: readonly (number | null)[];
}

export interface TrainingInput {
  readonly rows: readonly TrainingFeatureRow[];
  /** Failure times (epoch ms) per asset. */
  readonly failures: ReadonlyMap<string, readonly number[]>;
  /** End of the observed history per asset (epoch ms); rows whose horizon passes it are censored. */
  readonly observedUntil: ReadonlyMap<string, number>;
  readonly horizonMs: number;
  /** Feature names in vector order (the feature engine's). */
  readonly engineNames: readonly string[];
  /** Feature names in the model's input order (the manifest's). */
  readonly modelNames: readonly string[];
}

export interface TrainingMatrix {
  /** CSV lines without a trailing newline. */
  readonly lines: readonly string[];
  readonly positives: number;
  readonly censored: number;
  /** Rows whose vector is empty or shorter than the feature list (written before the model had predictors). */
  readonly withoutVector: number;
}

/** The manifest asks for a feature the feature engine does not produce. */
export class TrainingFeatureError extends Error {
  override readonly name: string = 'TrainingFeatureError';
}

/** Shortest text that parses back to the same float64 (`String` does that), empty for a missing value. */
const cell = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '' : String(x));

/**
 * The label of a row at `ts` (epoch ms): 1 when a failure (repair or replacement) follows within the
 * horizon, 0 when none does and the history is observed past the horizon, null when that is not known
 * yet (censored). The rule `pdm history export` trains on and `pdm models compare` scores with.
 */
export function failureLabel(ts: number, failures: readonly number[], observedUntil: number | undefined, horizonMs: number): 0 | 1 | null {
  const horizonEnd = ts + horizonMs;
  if (failures.some((f) => f > ts && f <= horizonEnd)) return 1;
  return observedUntil === undefined || horizonEnd > observedUntil ? null : 0;
}

export function trainingMatrix(input: TrainingInput): TrainingMatrix {
  const at = new Map(input.engineNames.map((n, i) => [n, i]));
  const missing = input.modelNames.filter((n) => !at.has(n));
  if (missing.length > 0) {
    throw new TrainingFeatureError(`the model needs feature(s) ${missing.slice(0, 5).join(', ')} the feature engine does not produce`);
  }
  const columns = input.modelNames.map((n) => at.get(n)!);
  const lines: string[] = [];
  let positives = 0;
  let censored = 0;
  let withoutVector = 0;
  for (const row of input.rows) {
    if (row.vector.length < input.engineNames.length) {
      withoutVector += 1;
      continue;
    }
    const label = failureLabel(row.ts, input.failures.get(row.assetId) ?? [], input.observedUntil.get(row.assetId), input.horizonMs);
    if (label === null) {
      censored += 1;
      continue;
    }
    const failed = label === 1;
    if (failed) positives += 1;
    lines.push([failed ? '1' : '0', ...columns.map((c) => cell(row.vector[c]))].join(','));
  }
  return { lines, positives, censored, withoutVector };
}

/** Parses a vector's JSON text (`[1.5,null,2]`, as the query module returns it). */
export function parseVectorText(text: unknown): (number | null)[] {
  if (Array.isArray(text)) return text.map((x) => (typeof x === 'number' ? x : null));
  if (typeof text !== 'string' || text === '') return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TrainingFeatureError(`vector is not a JSON array: ${text.slice(0, 60)}`);
  return parsed.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : null));
}

/** A repair or replacement from the maintenance table: the failure evidence labels come from. */
export interface FailureEvent {
  /** Epoch ms. */
  readonly ts: number;
  /** The component repaired or replaced; null = the whole asset. */
  readonly component: string | null;
}

/**
 * What a retrained predictor learns. `failure`: any repair or replacement of the asset within the
 * horizon. `component-failure`: a repair or replacement naming that component within the horizon (a
 * whole-asset replacement is not evidence about one component). `rul`: time to the asset's next repair
 * or replacement, capped at `rulCapMs`, in ms (the unit the time-clock RUL models predict).
 */
export type RetrainTarget =
  | { readonly kind: 'failure'; readonly horizonMs: number }
  | { readonly kind: 'component-failure'; readonly horizonMs: number; readonly component: string }
  | { readonly kind: 'rul'; readonly rulCapMs: number };

export interface RetrainingInput {
  readonly rows: readonly TrainingFeatureRow[];
  readonly failures: ReadonlyMap<string, readonly FailureEvent[]>;
  readonly observedUntil: ReadonlyMap<string, number>;
  readonly target: RetrainTarget;
  readonly engineNames: readonly string[];
  readonly modelNames: readonly string[];
  /** Newest share of the observed time span held out for evaluation (0 < f < 1). @default 0.2 */
  readonly holdoutFraction?: number;
  /** Share of the span just before the holdout kept for calibration and alert thresholds. @default 0.2 */
  readonly validationFraction?: number;
}

/** Where a slice's rows come from, in CSV order: what the threshold choice needs beyond the matrix. */
export interface SliceIndex {
  /** Asset of each row. */
  readonly assetId: readonly string[];
  /** Epoch ms of each row. */
  readonly ts: readonly number[];
  /** Times of the target's failures (repairs/replacements that count for it) per asset of the slice. */
  readonly failures: Readonly<Record<string, readonly number[]>>;
}

export interface RetrainingDataset {
  /** CSV lines (label first, no header) of rows before `validFromMs`, labelled as if history ended there. */
  readonly train: readonly string[];
  /** CSV lines of rows in [validFromMs, cutMs), labelled with all the history: calibration and alert thresholds. */
  readonly validation: readonly string[];
  readonly validationIndex: SliceIndex;
  /** CSV lines of rows at or after the cut, labelled with all the history. */
  readonly holdout: readonly string[];
  readonly holdoutIndex: SliceIndex;
  /** Epoch ms: validation rows are at or after it. */
  readonly validFromMs: number;
  /** Epoch ms: train and validation rows are before it, holdout rows at or after it. */
  readonly cutMs: number;
  readonly trainPositives: number;
  readonly validationPositives: number;
  readonly holdoutPositives: number;
  /** Rows left out because their label was not known yet (at the validation start for train rows, at the end for the others). */
  readonly censored: number;
  readonly withoutVector: number;
}

/** The retraining input cannot give a training set (no rows, a bad fraction, a bad target). */
export class RetrainingDataError extends Error {
  override readonly name: string = 'RetrainingDataError';
}

function isFailureOf(target: RetrainTarget, e: FailureEvent): boolean {
  return target.kind !== 'component-failure' || e.component === target.component;
}

/** The label of a row given the events visible and where the history ends; undefined = censored. */
function labelOf(target: RetrainTarget, ts: number, events: readonly FailureEvent[], end: number | undefined): number | undefined {
  if (target.kind === 'rul') {
    let next = Number.POSITIVE_INFINITY;
    for (const e of events) if (e.ts > ts && e.ts < next) next = e.ts;
    if (next - ts <= target.rulCapMs) return next - ts;
    return end !== undefined && ts + target.rulCapMs <= end ? target.rulCapMs : undefined;
  }
  const horizonEnd = ts + target.horizonMs;
  if (events.some((e) => isFailureOf(target, e) && e.ts > ts && e.ts <= horizonEnd)) return 1;
  return end !== undefined && horizonEnd <= end ? 0 : undefined;
}

/**
 * The retraining pipeline's data: labelled rows split by time into train, validation and holdout. The
 * observed span [first, last] of the rows labelled with full knowledge is cut by `timeSplit`, the split
 * `pdm retrain` uses (60 / 20 / 20 by default): holdout from 1 − holdoutFraction, validation the
 * validationFraction before it. Training rows see only events up to the validation start and a history
 * that ends there, so no training label leans on anything a later slice reveals (what `pdm retrain`'s
 * purge of one horizon does, without dropping the positives just before the cut). Validation and holdout
 * rows are labelled with everything, as `pdm retrain` labels them.
 * @throws RetrainingDataError when a slice would be empty or the fractions leave no training period.
 */
export function retrainingDataset(input: RetrainingInput): RetrainingDataset {
  const fraction = input.holdoutFraction ?? 0.2;
  const validation = input.validationFraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new RetrainingDataError(`holdoutFraction must be between 0 and 1 (exclusive), got ${fraction}`);
  if (!(validation > 0 && fraction + validation < 1)) {
    throw new RetrainingDataError(`validationFraction must be > 0 and leave a training period before it (holdout ${fraction} + validation ${validation} < 1)`);
  }
  const t = input.target;
  if (t.kind === 'rul' ? !(t.rulCapMs > 0) : !(t.horizonMs > 0)) throw new RetrainingDataError(`the ${t.kind} target needs a positive horizon or cap`);
  const at = new Map(input.engineNames.map((n, i) => [n, i]));
  const missing = input.modelNames.filter((n) => !at.has(n));
  if (missing.length > 0) throw new TrainingFeatureError(`the model needs feature(s) ${missing.slice(0, 5).join(', ')} the feature engine does not produce`);
  const columns = input.modelNames.map((n) => at.get(n)!);

  const complete = input.rows.filter((r) => r.vector.length >= input.engineNames.length);
  const withoutVector = input.rows.length - complete.length;
  // The span comes from the rows labelled with full knowledge, as pdm retrain's does.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let labelled = 0;
  for (const r of complete) {
    if (labelOf(t, r.ts, input.failures.get(r.assetId) ?? [], input.observedUntil.get(r.assetId)) === undefined) continue;
    labelled += 1;
    first = Math.min(first, r.ts);
    last = Math.max(last, r.ts);
  }
  if (labelled < 3 || !(last > first)) throw new RetrainingDataError(`only ${labelled} labelled row(s) over ${Number.isFinite(last - first) ? (last - first) / 3_600_000 : 0} h: not enough history to train, validate and hold out`);
  const split = timeSplit(first, last, { validAt: 1 - fraction - validation, testAt: 1 - fraction, purgeMs: 0 });
  const validFromMs = split.validFrom;
  const cutMs = split.testFrom;

  const train: string[] = [];
  const valid: string[] = [];
  const holdout: string[] = [];
  const index = () => ({ assetId: [] as string[], ts: [] as number[] });
  const validIdx = index();
  const holdoutIdx = index();
  let trainPositives = 0;
  let validationPositives = 0;
  let holdoutPositives = 0;
  let censored = 0;
  for (const row of complete) {
    const before = row.ts < validFromMs;
    const all = input.failures.get(row.assetId) ?? [];
    const events = before ? all.filter((e) => e.ts <= validFromMs) : all;
    const observed = input.observedUntil.get(row.assetId);
    const end = before && observed !== undefined ? Math.min(observed, validFromMs) : observed;
    const label = labelOf(t, row.ts, events, end);
    if (label === undefined) {
      censored += 1;
      continue;
    }
    const line = [String(label), ...columns.map((c) => cell(row.vector[c]))].join(',');
    const positive = t.kind !== 'rul' && label === 1 ? 1 : 0;
    if (before) {
      train.push(line);
      trainPositives += positive;
    } else if (row.ts < cutMs) {
      valid.push(line);
      validIdx.assetId.push(row.assetId);
      validIdx.ts.push(row.ts);
      validationPositives += positive;
    } else {
      holdout.push(line);
      holdoutIdx.assetId.push(row.assetId);
      holdoutIdx.ts.push(row.ts);
      holdoutPositives += positive;
    }
  }
  if (train.length === 0 || valid.length === 0 || holdout.length === 0) {
    throw new RetrainingDataError(
      `the split at ${new Date(validFromMs).toISOString()} / ${new Date(cutMs).toISOString()} leaves ${train.length} training, ${valid.length} validation and ${holdout.length} holdout rows`,
    );
  }
  const failuresOf = (assets: readonly string[]): Record<string, number[]> =>
    Object.fromEntries(
      [...new Set(assets)].map((a) => [
        a,
        (input.failures.get(a) ?? [])
          .filter((e) => isFailureOf(t, e))
          .map((e) => e.ts)
          .sort((x, y) => x - y),
      ]),
    );
  return {
    train,
    validation: valid,
    validationIndex: { ...validIdx, failures: failuresOf(validIdx.assetId) },
    holdout,
    holdoutIndex: { ...holdoutIdx, failures: failuresOf(holdoutIdx.assetId) },
    validFromMs,
    cutMs,
    trainPositives,
    validationPositives,
    holdoutPositives,
    censored,
    withoutVector,
  };
}
