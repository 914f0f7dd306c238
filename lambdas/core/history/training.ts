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
    const end = input.observedUntil.get(row.assetId);
    const horizonEnd = row.ts + input.horizonMs;
    const failures = input.failures.get(row.assetId) ?? [];
    const failed = failures.some((f) => f > row.ts && f <= horizonEnd);
    if (!failed && (end === undefined || horizonEnd > end)) {
      censored += 1;
      continue;
    }
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
