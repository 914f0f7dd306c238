/**
 * The training matrix `pdm history export` writes: SageMaker's built-in XGBoost CSV (label in the first
 * column, no header, features in the order the model bundle's manifest lists them), built from the
 * history's feature rows and failure evidence. Pure.
 *
 * Label (failure predictor): 1 when a repair or replacement of the asset follows the row within the
 * horizon, else 0. A row whose horizon reaches past the end of the asset's observed history is left
 * out (censored: its label is not known yet), the same rule the trainers apply.
 */

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
  /** Share of the labelled rows, newest by time, held out for evaluation (0 < f < 1). @default 0.2 */
  readonly holdoutFraction?: number;
}

export interface RetrainingDataset {
  /** CSV lines (label first, no header) of rows before the cut, labelled as if history ended at the cut. */
  readonly train: readonly string[];
  /** CSV lines of rows at or after the cut, labelled with all the history. */
  readonly holdout: readonly string[];
  /** Epoch ms: train rows are before it, holdout rows at or after it. */
  readonly cutMs: number;
  readonly trainPositives: number;
  readonly holdoutPositives: number;
  /** Rows left out because their label was not known yet (at the cut for train rows, at the end for holdout rows). */
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
 * The retraining pipeline's data: labelled rows split by time. The cut is the time of the first row of
 * the newest `holdoutFraction` of the labelled rows. Training rows (before the cut) see only events up
 * to the cut and a history that ends there, so no training label leans on anything the holdout period
 * reveals; holdout rows (at or after the cut) are labelled with everything.
 * @throws RetrainingDataError when there are no labelled rows on either side of the cut.
 */
export function retrainingDataset(input: RetrainingInput): RetrainingDataset {
  const fraction = input.holdoutFraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new RetrainingDataError(`holdoutFraction must be between 0 and 1 (exclusive), got ${fraction}`);
  const t = input.target;
  if (t.kind === 'rul' ? !(t.rulCapMs > 0) : !(t.horizonMs > 0)) throw new RetrainingDataError(`the ${t.kind} target needs a positive horizon or cap`);
  const at = new Map(input.engineNames.map((n, i) => [n, i]));
  const missing = input.modelNames.filter((n) => !at.has(n));
  if (missing.length > 0) throw new TrainingFeatureError(`the model needs feature(s) ${missing.slice(0, 5).join(', ')} the feature engine does not produce`);
  const columns = input.modelNames.map((n) => at.get(n)!);

  const complete = input.rows.filter((r) => r.vector.length >= input.engineNames.length);
  const withoutVector = input.rows.length - complete.length;
  // The cut comes from the rows labelled with full knowledge, so the holdout share holds for labelled rows.
  const labelledTimes = complete
    .filter((r) => labelOf(t, r.ts, input.failures.get(r.assetId) ?? [], input.observedUntil.get(r.assetId)) !== undefined)
    .map((r) => r.ts)
    .sort((a, b) => a - b);
  if (labelledTimes.length < 2) throw new RetrainingDataError(`only ${labelledTimes.length} labelled row(s): not enough history to train and hold out`);
  const cutMs = labelledTimes[Math.min(labelledTimes.length - 1, Math.floor(labelledTimes.length * (1 - fraction)))]!;

  const train: string[] = [];
  const holdout: string[] = [];
  let trainPositives = 0;
  let holdoutPositives = 0;
  let censored = 0;
  for (const row of complete) {
    const before = row.ts < cutMs;
    const all = input.failures.get(row.assetId) ?? [];
    const events = before ? all.filter((e) => e.ts <= cutMs) : all;
    const observed = input.observedUntil.get(row.assetId);
    const end = before && observed !== undefined ? Math.min(observed, cutMs) : observed;
    const label = labelOf(t, row.ts, events, end);
    if (label === undefined) {
      censored += 1;
      continue;
    }
    const line = [String(label), ...columns.map((c) => cell(row.vector[c]))].join(',');
    const positive = t.kind !== 'rul' && label === 1;
    if (before) {
      train.push(line);
      if (positive) trainPositives += 1;
    } else {
      holdout.push(line);
      if (positive) holdoutPositives += 1;
    }
  }
  if (train.length === 0 || holdout.length === 0) {
    throw new RetrainingDataError(`the cut at ${new Date(cutMs).toISOString()} leaves ${train.length} training and ${holdout.length} holdout rows`);
  }
  return { train, holdout, cutMs, trainPositives, holdoutPositives, censored, withoutVector };
}
