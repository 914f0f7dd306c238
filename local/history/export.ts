/**
 * `pdm history export`: the training matrix of one asset model from the history tables, in the CSV
 * SageMaker's built-in XGBoost trains on (label first, no header, the manifest's feature order). The
 * labelling rule lives in `core/history/training.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findAssetModel } from '../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { parseManifest, MANIFEST_FILE } from '../../lambdas/core/model/bundle.ts';
import { type Dialect, failureEvents, lastSampleTimes, trainingFeatures } from '../../lambdas/core/history/queries.ts';
import { parseVectorText, trainingMatrix, type TrainingFeatureRow } from '../../lambdas/core/history/training.ts';

/** The asset model or its predictor is not in the catalog or the model bundle. */
export class ExportInputError extends Error {
  override readonly name: string = 'ExportInputError';
}

export interface ExportOptions {
  readonly assetModel: string;
  /** Epoch ms, inclusive. */
  readonly fromMs: number;
  /** Epoch ms, exclusive. */
  readonly toMs: number;
  readonly out: string;
  /** Model bundle folder (manifest.json). @default layers/model */
  readonly bundleDir?: string;
  /** @default 'failure' */
  readonly predictor?: string;
}

export interface ExportSummary {
  readonly rows: number;
  readonly positives: number;
  readonly censored: number;
  readonly withoutVector: number;
  readonly features: number;
  readonly horizonMs: number;
  readonly out: string;
}

const toMs = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : Number(v));

/** An asset model's feature rows, repair/replacement times and last sample times, from the history tables. */
export interface TrainingHistory {
  readonly rows: TrainingFeatureRow[];
  readonly failures: Map<string, number[]>;
  readonly observedUntil: Map<string, number>;
}

/** Reads what the labelling rule needs (`pdm history export` and `pdm retrain` share it). */
export async function readTrainingHistory(
  engine: HistoryQueryEngine,
  dialect: Dialect,
  assetModel: string,
  fromMs: number,
  untilMs: number,
): Promise<TrainingHistory> {
  const f = trainingFeatures(dialect, assetModel, fromMs, untilMs);
  const e = failureEvents(assetModel, fromMs);
  const l = lastSampleTimes(assetModel);
  const [featureRows, failureRows, lastRows] = await Promise.all([
    engine.query(f.sql, f.params),
    engine.query(e.sql, e.params),
    engine.query(l.sql, l.params),
  ]);
  const rows: TrainingFeatureRow[] = featureRows.map((r) => ({
    assetId: String(r.asset_id),
    seq: Number(r.seq),
    ts: toMs(r.ts),
    vector: parseVectorText(r.vector),
  }));
  const failures = new Map<string, number[]>();
  for (const r of failureRows) {
    const id = String(r.asset_id);
    failures.set(id, [...(failures.get(id) ?? []), toMs(r.ts)]);
  }
  const observedUntil = new Map(lastRows.map((r) => [String(r.asset_id), toMs(r.last_ts)]));
  return { rows, failures, observedUntil };
}

export async function exportTraining(engine: HistoryQueryEngine, dialect: Dialect, opts: ExportOptions): Promise<ExportSummary> {
  const model = findAssetModel(opts.assetModel);
  if (!model) throw new ExportInputError(`unknown asset model "${opts.assetModel}"`);
  if (model.clock === 'cycle') {
    // Their horizons are in cycles, and failures are run ends, not maintenance: `pdm train` labels them.
    throw new ExportInputError(`${opts.assetModel} runs on a cycle clock; export labels time-clock models only`);
  }
  const dir = opts.bundleDir ?? join(import.meta.dirname, '..', '..', 'layers', 'model');
  const manifest = parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  const name = opts.predictor ?? 'failure';
  const entry = manifest.models[opts.assetModel]?.predictors.find((p) => p.name === name);
  if (!entry) throw new ExportInputError(`the model bundle in ${dir} has no "${name}" predictor for ${opts.assetModel}`);
  if (entry.kind !== 'failure' || entry.horizon === undefined) {
    throw new ExportInputError(`predictor "${name}" is a ${entry.kind} predictor; export labels failure predictors (with a horizon)`);
  }
  const horizonMs = entry.horizon;

  const { rows, failures, observedUntil } = await readTrainingHistory(engine, dialect, opts.assetModel, opts.fromMs, opts.toMs);
  const matrix = trainingMatrix({
    rows,
    failures,
    observedUntil,
    horizonMs,
    engineNames: featureNames(model),
    modelNames: entry.featureNames,
  });
  writeFileSync(opts.out, matrix.lines.length > 0 ? `${matrix.lines.join('\n')}\n` : '');
  return {
    rows: matrix.lines.length,
    positives: matrix.positives,
    censored: matrix.censored,
    withoutVector: matrix.withoutVector,
    features: entry.featureNames.length,
    horizonMs,
    out: opts.out,
  };
}
