/**
 * `pdm score`: scores any XGBoost JSON/UBJSON model file on a CSV of feature rows with the TS evaluator,
 * printing what SageMaker's built-in container prints for the same rows (one float32 per line), so a
 * model can be checked side by side with an endpoint or with xgboost.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type CompiledModel,
  contributions,
  loadXgboostModel,
  predictBatch,
} from '../../lambdas/core/model/index.ts';

/** The CSV cannot be scored: the message names the line and column. */
export class CsvInputError extends Error {
  override readonly name: string = 'CsvInputError';
}

export interface FeatureCsv {
  /** Row-major float32 matrix in the model's column order; NaN for empty cells. */
  readonly x: Float32Array;
  readonly n: number;
}

/**
 * Parses a CSV of feature rows (first line: feature names; empty cell = missing) into the model's column
 * order. With `feature_names` in the model, columns are matched by name (extra CSV columns are ignored);
 * without, by position, and the count must match.
 */
export function parseFeatureCsv(text: string, model: CompiledModel): FeatureCsv {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new CsvInputError('the CSV is empty: expected a header line of feature names');
  const header = lines[0]!.split(',').map((h) => h.trim());
  const k = model.numFeatures;
  let source: number[];
  if (model.featureNames) {
    const at = new Map<string, number>();
    header.forEach((h, i) => {
      if (at.has(h)) throw new CsvInputError(`line 1: column "${h}" appears twice`);
      at.set(h, i);
    });
    const missing = model.featureNames.filter((n) => !at.has(n));
    if (missing.length > 0) {
      throw new CsvInputError(
        `line 1: the model needs column(s) ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}, absent from the header`,
      );
    }
    source = model.featureNames.map((n) => at.get(n)!);
  } else {
    if (header.length !== k) {
      throw new CsvInputError(`line 1: the header has ${header.length} columns, the model has ${k} features (no feature_names to match by name)`);
    }
    source = Array.from({ length: k }, (_, i) => i);
  }
  const n = lines.length - 1;
  const x = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1]!.split(',');
    if (cells.length !== header.length) {
      throw new CsvInputError(`line ${r + 2}: ${cells.length} cells, the header has ${header.length}`);
    }
    for (let j = 0; j < k; j++) {
      const col = source[j]!;
      const cell = cells[col]!.trim();
      let v: number;
      if (cell === '' || /^nan$/i.test(cell)) v = Number.NaN;
      else {
        v = Number(cell);
        if (Number.isNaN(v)) {
          throw new CsvInputError(`line ${r + 2}, column ${col + 1} ("${header[col]}"): "${cell}" is not a number`);
        }
      }
      x[r * k + j] = v;
    }
  }
  return { x, n };
}

/**
 * A training CSV (SageMaker's built-in XGBoost format, what `pdm history export` writes: no header,
 * label first, features in the model's order) as the feature CSV `parseFeatureCsv` reads: the label
 * column dropped, the model's feature names as the header.
 */
export function trainingCsvAsFeatureCsv(text: string, model: CompiledModel): string {
  const k = model.numFeatures;
  const header = model.featureNames ? [...model.featureNames] : Array.from({ length: k }, (_, i) => `f${i}`);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const body = lines.map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== k + 1) {
      throw new CsvInputError(`line ${i + 1}: ${cells.length} cells, expected the label and ${k} features`);
    }
    return cells.slice(1).join(',');
  });
  return [header.join(','), ...body].join('\n');
}

export interface ScoreOptions {
  /** One line per row: the contributions (TreeSHAP, margin space), then the bias. @default false */
  readonly contribs?: boolean;
  /** Print margins instead of outputs. @default false */
  readonly margin?: boolean;
  /** The CSV is a training CSV (label first, no header; see `trainingCsvAsFeatureCsv`). @default false */
  readonly labelFirst?: boolean;
}

/** Scores the CSV and returns the output lines. */
export function scoreCsv(modelBytes: Uint8Array | string, csv: string, opts: ScoreOptions = {}): string[] {
  const model = loadXgboostModel(modelBytes);
  const { x, n } = parseFeatureCsv(opts.labelFirst ? trainingCsvAsFeatureCsv(csv, model) : csv, model);
  const k = model.numFeatures;
  if (opts.contribs) {
    const out = new Float64Array(k + 1);
    const lines: string[] = [];
    for (let r = 0; r < n; r++) {
      contributions(model, x.subarray(r * k, r * k + k), out);
      lines.push(Array.from(out, (v) => String(Math.fround(v))).join(','));
    }
    return lines;
  }
  const pred = predictBatch(model, x, n, undefined, opts.margin === true);
  return Array.from(pred, (v) => String(Math.fround(v)));
}

/** Adds `score` to the program. */
export function register(program: Command): void {
  program
    .command('score')
    .description('score an XGBoost JSON/UBJSON model on a CSV of feature rows (header = feature names)')
    .requiredOption('--model <file>', 'XGBoost model file (JSON or UBJSON, detected from the bytes)')
    .requiredOption('--input <rows.csv>', 'CSV: header of feature names, one row per line, empty cell = missing')
    .option('--contribs', 'print TreeSHAP contributions then the bias, one row per line')
    .option('--margin', 'print raw margins instead of outputs')
    .option('--label-first', 'the CSV is a training CSV (pdm history export): no header, label first, the model\'s feature order')
    .action((opts: { model: string; input: string; contribs?: boolean; margin?: boolean; labelFirst?: boolean }) => {
      if (opts.contribs && opts.margin) throw new InvalidArgumentError('--contribs and --margin exclude each other');
      let lines: string[];
      try {
        lines = scoreCsv(new Uint8Array(readFileSync(opts.model)), readFileSync(opts.input, 'utf8'), {
          contribs: opts.contribs === true,
          margin: opts.margin === true,
          labelFirst: opts.labelFirst === true,
        });
      } catch (e) {
        // Named errors (CsvInputError, ModelFormatError, …) carry the reason; a stack trace adds nothing.
        const err = e as Error;
        program.error(`pdm score: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
      process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : '');
    });
}
