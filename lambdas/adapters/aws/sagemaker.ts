/**
 * SageMaker endpoint scorer with an in-process fallback over the same bundle file. The endpoint runs
 * SageMaker's built-in XGBoost container on the model file the bundle ships, so the fallback gives the
 * same numbers (parity is tested); the fallback exists so a cold, throttled or failing endpoint delays
 * nothing and loses nothing.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { AssetModel } from '../../core/catalog/types.ts';
import type { BundlePredictor, ModelBundle } from '../../core/model/bundle.ts';
import { predictBatch } from '../../core/model/predict.ts';
import { createBundleScorer, csvRowsForEndpoint } from '../../core/model/scorer.ts';
import type { RowScorer } from '../../core/pipeline.ts';
import type { FeatureRow, Prediction, Twin } from '../../core/twin/twin.ts';
import { bundleScores } from '../model.ts';
import type { Scorer } from '../ports.ts';
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
}

/**
 * For each predictor with an endpoint, one InvokeEndpoint per asset batch (CSV, one row per line);
 * predictors without one are scored in process. If any call fails or times out, the whole batch of
 * that asset is scored in process and marked `scoredBy: 'fallback'`, so one prediction never mixes
 * an endpoint's failure probability with a fallback's RUL. Endpoint predictions carry no TreeSHAP
 * contributors (the container does not compute them here); the twin then shows the anomaly
 * score's contributors.
 */
export class SageMakerScorer implements Scorer {
  private readonly fallback: RowScorer;
  private readonly local: RowScorer;

  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly bundle: ModelBundle,
    private readonly options: SageMakerScorerOptions,
  ) {
    this.fallback = createBundleScorer(bundle, { scoredBy: 'fallback' });
    this.local = createBundleScorer(bundle, { scoredBy: 'in-process' });
  }

  scores(model: AssetModel): boolean {
    return bundleScores(this.bundle, model);
  }

  async score(model: AssetModel, twin: Twin, rows: readonly FeatureRow[]): Promise<(Prediction | null)[]> {
    const entry = this.bundle.models.get(model.id);
    if (!entry || entry.predictors.length === 0 || rows.length === 0) return rows.map(() => null);
    // An asset model with no endpoint at all is simply scored here, with TreeSHAP contributors.
    if (!entry.predictors.some((p) => this.options.endpoints[`${model.id}/${p.entry.name}`] !== undefined)) {
      return this.local(model, twin, rows);
    }
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
      return this.fallback(model, twin, rows);
    }
    const pFail = entry.failure ? values.get(entry.failure)! : null;
    const rul = entry.rul ? values.get(entry.rul)! : null;
    return rows.map((_row, i) => {
      let componentFailure: Record<string, number> | undefined;
      if (entry.components.length > 0) {
        componentFailure = {};
        for (const c of entry.components) componentFailure[c.entry.component!] = values.get(c)![i]!;
      }
      return {
        failureProbability: pFail ? pFail[i]! : null,
        rul: rul ? Math.max(0, rul[i]!) : null,
        ...(componentFailure ? { componentFailure } : {}),
        scoredBy: 'endpoint' as const,
      };
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
