/**
 * SageMaker endpoint scorer with an in-process fallback over the same bundle file. The endpoint runs
 * SageMaker's built-in XGBoost container on the model file the bundle ships, so the fallback gives the
 * same numbers (parity is tested); the fallback exists so a cold, throttled or failing endpoint delays
 * nothing and loses nothing.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { AssetModel } from '../../core/catalog/types.ts';
import type { BundleAssetModel, BundlePredictor, ModelBundle } from '../../core/model/bundle.ts';
import { predictBatch } from '../../core/model/predict.ts';
import { calibrate } from '../../core/model/decision.ts';
import {
  createBundleExplainer,
  createBundleScorer,
  csvRowsForEndpoint,
  type PredictionExplainer,
  rulFields,
} from '../../core/model/scorer.ts';
import type { RowScorer } from '../../core/pipeline.ts';
import type { FeatureRow, Prediction, Twin } from '../../core/twin/twin.ts';
import { bundleScores } from '../model.ts';
import type { ScoreItem, Scorer } from '../ports.ts';
import { errorMessage, errorName } from '../retry.ts';

/** The endpoint's answer does not hold one number per row. */
export class EndpointResponseError extends Error {
  override readonly name: string = 'EndpointResponseError';
}

export interface FallbackEvent {
  readonly modelId: string;
  readonly predictor: string;
  readonly endpoint: string;
  readonly error: string;
  readonly errorName: string;
  readonly rows: number;
}

export interface SageMakerScorerOptions {
  /** `<assetModelId>/<predictor>` → endpoint name (PDM_ENDPOINTS). */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Per InvokeEndpoint call (PDM_ENDPOINT_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Called once per fallback: the handler counts it as a metric and logs it. */
  readonly onFallback?: (e: FallbackEvent) => void;
  /**
   * Rows per InvokeEndpoint call. A CSV row is ~0.3–1.2 KB and a serverless endpoint takes at most
   * 4 MB per request. @default DEFAULT_MAX_ROWS_PER_CALL
   */
  readonly maxRowsPerCall?: number;
}

/** Rows per call by default: about 1.2 MB of CSV at the widest feature vector, well under 4 MB. */
export const DEFAULT_MAX_ROWS_PER_CALL = 1_000;

/**
 * For each predictor with an endpoint, one InvokeEndpoint per call of `score` or `scoreMany` (CSV,
 * one row per line, the assets' rows one after another, in chunks of at most `maxRowsPerCall`);
 * predictors without one are scored in process. If any call of a chunk fails or times out, every asset
 * of that chunk is scored in process and marked `scoredBy: 'fallback'`, so one prediction never mixes
 * an endpoint's failure probability with a fallback's RUL. The container returns values only; the
 * TreeSHAP contributors of risky rows are computed here from the same model file, on first read
 * (`createBundleExplainer`), so endpoint and fallback twins differ only in `scoredBy`.
 */
export class SageMakerScorer implements Scorer {
  private readonly fallback: RowScorer;
  private readonly local: RowScorer;
  private readonly maxRows: number;
  private readonly explain: PredictionExplainer;

  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly bundle: ModelBundle,
    private readonly options: SageMakerScorerOptions,
  ) {
    this.fallback = createBundleScorer(bundle, { scoredBy: 'fallback' });
    this.local = createBundleScorer(bundle, { scoredBy: 'in-process' });
    this.maxRows = options.maxRowsPerCall ?? DEFAULT_MAX_ROWS_PER_CALL;
    this.explain = createBundleExplainer(bundle);
  }

  scores(model: AssetModel): boolean {
    return bundleScores(this.bundle, model);
  }

  async score(model: AssetModel, twin: Twin, rows: readonly FeatureRow[]): Promise<(Prediction | null)[]> {
    return (await this.scoreMany(model, [{ twin, rows }]))[0]!;
  }

  async scoreMany(model: AssetModel, items: readonly ScoreItem[]): Promise<(Prediction | null)[][]> {
    const entry = this.bundle.models.get(model.id);
    if (!entry || entry.predictors.length === 0) return items.map((it) => it.rows.map(() => null));
    // An asset model with no endpoint at all is simply scored here, with TreeSHAP contributors.
    if (!entry.predictors.some((p) => this.options.endpoints[`${model.id}/${p.entry.name}`] !== undefined)) {
      return items.map((it) => (it.rows.length === 0 ? [] : this.local(model, it.twin, it.rows)));
    }
    // Chunks end at asset boundaries: an asset's rows are never split over two calls.
    const chunks: ScoreItem[][] = [];
    let current: ScoreItem[] = [];
    let rowsInCurrent = 0;
    for (const it of items) {
      if (current.length > 0 && rowsInCurrent + it.rows.length > this.maxRows) {
        chunks.push(current);
        current = [];
        rowsInCurrent = 0;
      }
      current.push(it);
      rowsInCurrent += it.rows.length;
    }
    if (current.length > 0) chunks.push(current);
    // Chunks hold the items in order, so their answers concatenate to one per item.
    return (await Promise.all(chunks.map((chunk) => this.scoreChunk(model, entry, chunk)))).flat();
  }

  private async scoreChunk(model: AssetModel, entry: BundleAssetModel, chunk: readonly ScoreItem[]): Promise<(Prediction | null)[][]> {
    const rows = chunk.flatMap((it) => it.rows);
    if (rows.length === 0) return chunk.map(() => []);
    const values = new Map<BundlePredictor, Float64Array>();
    try {
      await Promise.all(
        entry.predictors.map(async (p) => {
          values.set(p, await this.predict(model.id, p, rows));
        }),
      );
    } catch (err) {
      const e = err as PredictorError;
      this.options.onFallback?.({
        modelId: model.id,
        predictor: e.predictor ?? '?',
        endpoint: e.endpoint ?? '?',
        error: errorMessage(e.cause ?? err),
        errorName: errorName(e.cause ?? err),
        rows: rows.length,
      });
      return chunk.map((it) => (it.rows.length === 0 ? [] : this.fallback(model, it.twin, it.rows)));
    }
    const pFail = entry.failure ? values.get(entry.failure)! : null;
    const rul = entry.rul ? values.get(entry.rul)! : null;
    let offset = 0;
    return chunk.map((it) => {
      const base = offset;
      offset += it.rows.length;
      const predictions = it.rows.map((_row, j): Prediction => {
        const i = base + j;
        let componentFailure: Record<string, number> | undefined;
        if (entry.components.length > 0) {
          componentFailure = {};
          for (const c of entry.components) {
            componentFailure[c.entry.component!] = calibrate(c.entry.calibration, values.get(c)![i]!);
          }
        }
        return {
          failureProbability: pFail ? calibrate(entry.failure?.entry.calibration, pFail[i]!) : null,
          ...rulFields(entry.rul, rul?.[i]),
          ...(componentFailure ? { componentFailure } : {}),
          scoredBy: 'endpoint' as const,
        };
      });
      this.explain(model, it.rows, predictions);
      return predictions;
    });
  }

  /** One predictor's values for all rows: from its endpoint, or in process when it has none. */
  private async predict(modelId: string, p: BundlePredictor, rows: readonly FeatureRow[]): Promise<Float64Array> {
    const endpoint = this.options.endpoints[`${modelId}/${p.entry.name}`];
    if (endpoint === undefined) return inProcess(p, rows);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    try {
      const res = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: endpoint,
          ContentType: 'text/csv',
          Accept: 'text/csv',
          Body: csvRowsForEndpoint(p, rows),
        }),
        { abortSignal: abort.signal },
      );
      const text = res.Body ? new TextDecoder().decode(res.Body) : '';
      return parseValues(text, rows.length);
    } catch (err) {
      const cause = abort.signal.aborted ? new EndpointTimeoutError(endpoint, this.options.timeoutMs) : err;
      throw new PredictorError(p.entry.name, endpoint, cause);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** InvokeEndpoint did not answer within PDM_ENDPOINT_TIMEOUT_MS. */
export class EndpointTimeoutError extends Error {
  override readonly name: string = 'EndpointTimeoutError';
  constructor(endpoint: string, ms: number) {
    super(`endpoint ${endpoint} did not answer within ${ms} ms`);
  }
}

class PredictorError extends Error {
  override readonly name: string = 'PredictorError';
  constructor(
    readonly predictor: string,
    readonly endpoint: string,
    override readonly cause: unknown,
  ) {
    super(`${predictor} via ${endpoint}: ${errorMessage(cause)}`);
  }
}

/**
 * One float per line (the built-in container's CSV answer); a comma-separated single line is
 * accepted too, since some container versions answer that way.
 */
export function parseValues(text: string, n: number): Float64Array {
  const cells = text.trim().split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (cells.length !== n) throw new EndpointResponseError(`expected ${n} values, got ${cells.length}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = Number(cells[i]);
    if (!Number.isFinite(x)) throw new EndpointResponseError(`value ${i} is ${JSON.stringify(cells[i])}, not a number`);
    out[i] = x;
  }
  return out;
}

function inProcess(p: BundlePredictor, rows: readonly FeatureRow[]): Float64Array {
  const { columns, model } = p;
  const k = columns.length;
  const x = new Float32Array(rows.length * k);
  rows.forEach((row, i) => {
    for (let j = 0; j < k; j++) x[i * k + j] = row.vector[columns[j]!]!;
  });
  return predictBatch(model, x, rows.length);
}
