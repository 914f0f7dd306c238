/**
 * Scores a model on a holdout CSV in SageMaker's training format (label first, no header, empty =
 * missing) and reports the metrics the promotion gate compares. Pure: the caller reads the files.
 */
import { averagePrecision, rmse } from '../model/metrics.ts';
import type { CompiledModel } from '../model/model.ts';
import { predictBatch } from '../model/predict.ts';

export class HoldoutFormatError extends Error {
  override readonly name: string = 'HoldoutFormatError';
}

export interface Holdout {
  readonly labels: Float64Array;
  /** Row-major, `rows × features`, NaN = missing. */
  readonly x: Float32Array;
  readonly rows: number;
  readonly features: number;
}

/** Parses label-first CSV text. @throws HoldoutFormatError on ragged rows or a non-numeric cell. */
export function parseHoldoutCsv(csv: string): Holdout {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new HoldoutFormatError('the holdout CSV has no rows');
  const features = lines[0]!.split(',').length - 1;
  if (features < 1) throw new HoldoutFormatError('the holdout CSV has a label but no feature column');
  const labels = new Float64Array(lines.length);
  const x = new Float32Array(lines.length * features);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== features + 1) throw new HoldoutFormatError(`row ${i + 1} has ${cells.length} cells, the first row ${features + 1}`);
    const value = (c: string, j: number): number => {
      if (c === '') return Number.NaN;
      const v = Number(c);
      if (!Number.isFinite(v)) throw new HoldoutFormatError(`row ${i + 1}, column ${j + 1}: "${c.slice(0, 20)}" is not a number`);
      return v;
    };
    const label = value(cells[0]!, 0);
    if (Number.isNaN(label)) throw new HoldoutFormatError(`row ${i + 1} has no label`);
    labels[i] = label;
    for (let j = 0; j < features; j++) x[i * features + j] = value(cells[j + 1]!, j + 1);
  });
  return { labels, x, rows: lines.length, features };
}

/** What the evaluation JSON reports. Binary: `prAuc`; regression: `rmse` (in the label's unit / `rmseScale`). */
export interface HoldoutMetrics {
  readonly rows: number;
  readonly positives?: number;
  readonly prAuc?: number;
  readonly rmse?: number;
}

/**
 * @param task `binary` for failure predictors (probabilities), `regression` for RUL.
 * @param rmseScale divides the RMSE (3,600,000 turns ms into hours). @default 1
 */
export function evaluateHoldout(model: CompiledModel, holdout: Holdout, task: 'binary' | 'regression', rmseScale = 1): HoldoutMetrics {
  if (holdout.features !== model.numFeatures) {
    throw new HoldoutFormatError(`the holdout has ${holdout.features} feature columns, the model expects ${model.numFeatures}`);
  }
  const scores = predictBatch(model, holdout.x, holdout.rows);
  if (task === 'binary') {
    let positives = 0;
    for (const y of holdout.labels) if (y > 0.5) positives++;
    return { rows: holdout.rows, positives, prAuc: averagePrecision(scores, holdout.labels) };
  }
  return { rows: holdout.rows, rmse: rmse(scores, holdout.labels) / rmseScale };
}
