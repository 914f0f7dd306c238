/**
 * The features function: clean stream → per asset: twin (DynamoDB), scores, time series, alerts.
 *
 * Per invocation, in three phases:
 *   A. per asset (arrival order kept): read twin + registration, `prepareBatch`, score, `completeBatch`;
 *   B. side effects for all assets together: features/predictions to the telemetry store, alerts to
 *      EventBridge, screening quarantines to S3 (one object per reason);
 *   C. per asset, one conditional twin write. On a version conflict the asset is re-read and the same
 *      input re-applied (the core folds are pure, and replayed samples are screened out), its new
 *      side effects are sent, and the write retried, a bounded number of times.
 * Side effects go before the twin write so that a failure leaves the twin unchanged: Lambda retries
 * the records and they are recomputed, never lost. Alerts are the exception, because re-sending the
 * ones that did go out would duplicate them: an alert the bus refuses goes into the twin's outbox
 * (`pendingAlerts`) with the twin write, the asset's records are reported failed so that Lambda
 * redelivers them promptly, and the redelivery (or any later invocation for the asset) sends the outbox
 * first. Alerts are then delivered once, unless the function dies between a publish and the twin write.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { TwinHealthChangedDetail } from '../core/alerts/policy.ts';
import { type AnomalyBaseline, DEFAULT_BASELINES } from '../core/anomaly/index.ts';
import { findAssetModel } from '../core/catalog/index.ts';
import type { AssetModel } from '../core/catalog/types.ts';
import type { QuarantineRecord } from '../core/cleaning/reasons.ts';
import { featureNames } from '../core/features/index.ts';
import { defaultPolicies } from '../core/pipeline.ts';
import {
  type CompletedBatch,
  completeBatch,
  type Policies,
  type Prediction,
  type PreparedBatch,
  prepareBatch,
  type TwinContext,
  type TwinInput,
} from '../core/twin/twin.ts';
import { partialResponse, recordBytes } from '../adapters/kinesis-event.ts';
import {
  type AlertPublisher,
  type AssetRegistry,
  type FeaturePoint,
  type PredictionPoint,
  type QuarantineSink,
  type Scorer,
  type TelemetryStore,
  TwinConflictError,
  type TwinStore,
} from '../adapters/ports.ts';
import { assetOf, decodeCleanRecord, InvalidCleanRecordError } from '../adapters/records.ts';
import { errorMessage } from '../adapters/retry.ts';

export interface FeatureDeps {
  readonly registry: AssetRegistry;
  readonly twins: TwinStore;
  readonly scorer: Scorer;
  readonly telemetry: TelemetryStore;
  readonly quarantine: QuarantineSink;
  readonly alerts: AlertPublisher;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Re-reads after a version conflict before the asset's records fail. @default 3 */
  readonly maxConflictRetries?: number;
  /** Assets processed at once in phase A and C. @default 8 */
  readonly concurrency?: number;
  /** @default DEFAULT_BASELINES[model.id] */
  readonly baselineFor?: (model: AssetModel) => AnomalyBaseline;
  /** @default defaultPolicies */
  readonly policiesFor?: (model: AssetModel) => Policies;
}

export interface FeatureSummary {
  readonly assets: number;
  readonly twinsWritten: number;
  readonly conflicts: number;
  readonly rows: number;
  readonly alerts: number;
  /** Alerts the bus refused, kept in the twins' outboxes for the redelivery. */
  readonly alertsPending: number;
  readonly quarantined: number;
  readonly timestreamRejected: number;
  readonly failedAssets: readonly string[];
}

export type FeatureHandler = ((event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>) & {
  lastSummary?: FeatureSummary;
};

/** No anomaly baseline ships for an asset model that the registry uses. */
export class MissingBaselineError extends Error {
  override readonly name: string = 'MissingBaselineError';
}

interface Work {
  readonly assetId: string;
  readonly inputs: TwinInput[];
  /** Clean stream sequence numbers carrying this asset's inputs. */
  readonly seqs: Set<string>;
  ctx?: TwinContext;
  policies?: Policies;
  model?: AssetModel;
  /** Version read before applying; null when no twin existed. */
  expected?: number | null;
  prepared?: PreparedBatch;
  predictions?: readonly (Prediction | null)[];
  done?: CompletedBatch;
  failed?: string;
  /** The stored twin's outbox when it was read. */
  carried?: readonly TwinHealthChangedDetail[];
  /** Alerts of this asset the bus refused in this invocation: the twin's next outbox. */
  unsent?: TwinHealthChangedDetail[];
}

interface Stats {
  conflicts: number;
  twinsWritten: number;
  rows: number;
  alerts: number;
  alertsPending: number;
  quarantined: number;
  timestreamRejected: number;
}

/** What phase B has already sent for this invocation, so a conflict re-apply sends only what is new. */
interface Sent {
  readonly rows: Set<string>;
  readonly alerts: Set<string>;
  readonly quarantine: Set<string>;
}

export function createHandler(deps: FeatureDeps): FeatureHandler {
  const { logger, metrics } = deps;
  const maxRetries = deps.maxConflictRetries ?? 3;
  const concurrency = deps.concurrency ?? 8;
  const baselineFor =
    deps.baselineFor ??
    ((m: AssetModel) => {
      const b = DEFAULT_BASELINES[m.id];
      if (!b) throw new MissingBaselineError(`no anomaly baseline for asset model ${m.id}`);
      return b;
    });
  const policiesFor = deps.policiesFor ?? defaultPolicies;

  const handler: FeatureHandler = async (event, context) => {
    const requestId = context.awsRequestId;
    logger.appendKeys({ requestId });
    const works = new Map<string, Work>();
    const invalid: QuarantineRecord[] = [];
    for (const record of event.Records) {
      const seq = record.kinesis.sequenceNumber;
      let items: TwinInput[];
      try {
        items = decodeCleanRecord(recordBytes(record));
      } catch (err) {
        if (!(err instanceof InvalidCleanRecordError)) throw err;
        // Only our clean function writes here: a record that does not decode is a bug to look at, and
        // retrying it cannot help, so it is quarantined with its bytes.
        logger.error('clean record does not decode', { sequenceNumber: seq, error: err.message });
        invalid.push({
          reason: 'invalid_envelope',
          level: 'message',
          detail: `clean stream record: ${err.message}`,
          messageId: seq,
          topic: '',
          receivedAt: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
          assetId: record.kinesis.partitionKey,
          payload: record.kinesis.data,
        });
        continue;
      }
      for (const item of items) {
        const id = assetOf(item);
        let w = works.get(id);
        if (!w) works.set(id, (w = { assetId: id, inputs: [], seqs: new Set() }));
        w.inputs.push(item);
        w.seqs.add(seq);
      }
    }

    const all = [...works.values()];
    try {
      const assets = await deps.registry.getMany(all.map((w) => w.assetId));
      for (const w of all) {
        const asset = assets.get(w.assetId);
        const model = asset ? findAssetModel(asset.modelId) : undefined;
        if (!asset || !model) {
          // Deregistered between the two functions: nothing to fold into; say so rather than retry forever.
          w.failed = 'skipped';
          logger.warn('asset no longer registered; its clean input is dropped', { assetId: w.assetId, items: w.inputs.length });
          metrics.addMetric('UnregisteredAssetItems', MetricUnit.Count, w.inputs.length);
          continue;
        }
        w.model = model;
        w.policies = policiesFor(model);
        w.ctx = { asset, model, baseline: baselineFor(model), vectors: deps.scorer.scores(model) };
      }
    } catch (err) {
      logger.error('asset registry lookup failed; failing the batch', { error: errorMessage(err) });
      for (const w of all) w.failed = errorMessage(err);
    }

    const sent: Sent = { rows: new Set(), alerts: new Set(), quarantine: new Set() };
    const stats: Stats = { conflicts: 0, twinsWritten: 0, rows: 0, alerts: 0, alertsPending: 0, quarantined: 0, timestreamRejected: 0 };
    const live = () => all.filter((w) => w.failed === undefined);

    // Phase A
    await pool(live(), concurrency, async (w) => {
      try {
        await apply(w);
      } catch (err) {
        fail(w, err);
      }
    });
    // Phase B
    const invalidReport = invalid.length > 0 ? await deps.quarantine.put(invalid, requestId) : { failed: [] };
    await sideEffects(live(), sent, stats, requestId);
    // Phase C
    await pool(live(), concurrency, async (w) => {
      try {
        await commit(w, sent, stats, requestId);
      } catch (err) {
        fail(w, err);
      }
    });

    const failedSeqs = new Set<string>();
    const failedAssets: string[] = [];
    for (const w of all) {
      if (w.failed === 'skipped') continue;
      if (w.failed === undefined) {
        // Written with an outbox: redeliver the records so that the outbox goes out soon, even if the
        // device falls silent. Their samples are already in the twin and are screened as replays.
        if ((w.unsent?.length ?? 0) > 0) for (const s of w.seqs) failedSeqs.add(s);
        continue;
      }
      failedAssets.push(w.assetId);
      for (const s of w.seqs) failedSeqs.add(s);
    }
    for (const f of invalidReport.failed) for (const id of f.messageIds) failedSeqs.add(id);

    const add = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
    add('CleanRecordsReceived', event.Records.length);
    add('Assets', all.length);
    add('TwinsWritten', stats.twinsWritten);
    add('TwinConflicts', stats.conflicts);
    add('AssetsFailed', failedAssets.length);
    add('FeatureRows', stats.rows);
    add('AlertsPublished', stats.alerts);
    add('AlertsPending', stats.alertsPending);
    add('ScreenQuarantined', stats.quarantined);
    add('TimestreamRejected', stats.timestreamRejected);
    add('InvalidCleanRecords', invalid.length);
    metrics.publishStoredMetrics();
    const summary: FeatureSummary = { assets: all.length, ...stats, failedAssets };
    logger.info('features batch', { ...summary });
    handler.lastSummary = summary;
    return partialResponse(event, failedSeqs);
  };

  function fail(w: Work, err: unknown): void {
    w.failed = errorMessage(err);
    logger.error('asset processing failed; its records will be retried', {
      assetId: w.assetId,
      error: errorMessage(err),
      errorName: (err as Error)?.name,
    });
  }

  /** Reads the twin and folds the asset's input into it (phases 1 and 2 of the core), without writing. */
  async function apply(w: Work): Promise<void> {
    const current = await deps.twins.get(w.assetId);
    const prepared = prepareBatch(current, w.inputs, w.ctx!);
    const predictions = await deps.scorer.score(w.model!, prepared.twin, prepared.rows);
    w.expected = current ? current.version : null;
    w.carried = current?.pendingAlerts ?? [];
    w.unsent = [];
    w.prepared = prepared;
    w.predictions = predictions;
    w.done = completeBatch(prepared, predictions, w.ctx!, w.policies!);
  }

  async function commit(w: Work, sent: Sent, stats: Stats, requestId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const unsent = w.unsent ?? [];
      if (!w.done!.changed && (w.carried?.length ?? 0) === 0 && unsent.length === 0) return;
      const twin = { ...w.done!.twin };
      if (unsent.length > 0) twin.pendingAlerts = unsent;
      else delete twin.pendingAlerts;
      try {
        await deps.twins.put(twin, w.expected ?? null);
        stats.twinsWritten += 1;
        stats.alertsPending += unsent.length;
        return;
      } catch (err) {
        if (!(err instanceof TwinConflictError) || attempt >= maxRetries) throw err;
        stats.conflicts += 1;
        logger.info('twin version conflict; re-applying', { assetId: w.assetId, attempt: attempt + 1 });
        await apply(w);
        await sideEffects([w], sent, stats, requestId);
        if (w.failed !== undefined) throw new Error(w.failed, { cause: err });
      }
    }
  }

  /**
   * Sends what the given assets produced and was not sent yet; an asset whose side effect failed is
   * marked failed (its twin is then not written, so a retry recomputes it).
   */
  async function sideEffects(
    ws: readonly Work[],
    sent: Sent,
    stats: Stats,
    requestId: string,
  ): Promise<void> {
    const features: FeaturePoint[] = [];
    const predictions: PredictionPoint[] = [];
    const featureOwners: Work[] = [];
    const alerts: TwinHealthChangedDetail[] = [];
    const quarantine: QuarantineRecord[] = [];
    const quarantineOwner = new Map<QuarantineRecord, Work>();
    const quarantineKey = (w: Work, q: QuarantineRecord) => `${w.assetId}:${q.reason}:${q.messageId}:${q.seq}:${q.sensor ?? ''}`;
    for (const w of ws) {
      const prepared = w.prepared!;
      const model = w.model!;
      const names = w.ctx!.vectors ? featureNames(model) : [];
      const dims = { assetId: w.assetId, siteId: w.ctx!.asset.siteId, modelId: model.id };
      prepared.rows.forEach((row, i) => {
        const key = `${w.assetId}:${row.seq}`;
        if (sent.rows.has(key)) return;
        features.push({ ...dims, row, names });
        predictions.push({ ...dims, ts: row.ts, seq: row.seq, anomaly: row.anomaly.score, prediction: w.predictions![i] ?? null });
        featureOwners.push(w);
      });
      const queued = new Set<string>();
      for (const a of [...(w.carried ?? []), ...w.done!.alerts]) {
        if (sent.alerts.has(a.alertId) || queued.has(a.alertId)) continue;
        queued.add(a.alertId);
        alerts.push(a);
      }
      for (const q of prepared.quarantine) {
        if (sent.quarantine.has(quarantineKey(w, q))) continue;
        quarantine.push(q);
        quarantineOwner.set(q, w);
      }
    }
    const byAsset = new Map(ws.map((w) => [w.assetId, w]));
    const [f, p, q] = await Promise.allSettled([
      features.length > 0 ? deps.telemetry.writeFeatures(features) : Promise.resolve({ written: 0, rejected: [] }),
      predictions.length > 0 ? deps.telemetry.writePredictions(predictions) : Promise.resolve({ written: 0, rejected: [] }),
      quarantine.length > 0 ? deps.quarantine.put(quarantine, requestId) : Promise.resolve({ objects: [], failed: [] }),
    ]);
    const failAll = (owners: Iterable<Work>, what: string, err: unknown) => {
      for (const w of owners) if (w.failed === undefined) fail(w, new Error(`${what}: ${errorMessage(err)}`));
    };
    for (const [res, what] of [
      [f, 'features'],
      [p, 'predictions'],
    ] as const) {
      if (res.status === 'rejected') failAll(featureOwners, `${what} write`, res.reason);
      else if (res.value.rejected.length > 0) {
        stats.timestreamRejected += res.value.rejected.length;
        logger.warn(`${what} records rejected by the telemetry store`, { rejected: res.value.rejected.slice(0, 20) });
      }
    }
    if (f.status === 'fulfilled' && p.status === 'fulfilled') {
      for (const fp of features) sent.rows.add(`${fp.assetId}:${fp.row.seq}`);
      stats.rows += features.length;
    }
    const ownersOf = (reason?: string) =>
      new Set(quarantine.filter((x) => reason === undefined || x.reason === reason).map((x) => quarantineOwner.get(x)!));
    if (q.status === 'rejected') failAll(ownersOf(), 'quarantine', q.reason);
    else {
      const bad = new Set<string>(q.value.failed.map((x) => x.reason));
      for (const x of q.value.failed) failAll(ownersOf(x.reason), `quarantine ${x.reason}`, x.error);
      for (const x of quarantine) {
        if (bad.has(x.reason)) continue;
        sent.quarantine.add(quarantineKey(quarantineOwner.get(x)!, x));
        stats.quarantined += 1;
      }
    }
    // Alerts go last, and only for assets whose other side effects succeeded: an asset that fails is
    // retried whole, and anything it had published would go out twice. A refused alert does not fail
    // its asset either (that would re-send the alerts that went out): it goes to the asset's outbox,
    // written with the twin in phase C.
    const toPublish = alerts.filter((x) => byAsset.get(x.assetId)?.failed === undefined);
    let refused: Map<string, string>;
    try {
      const res = toPublish.length > 0 ? await deps.alerts.publish(toPublish) : { failed: [] };
      refused = new Map(res.failed.map((x) => [x.alert.alertId, x.error]));
    } catch (err) {
      refused = new Map(toPublish.map((x) => [x.alertId, errorMessage(err)]));
    }
    for (const x of toPublish) {
      const error = refused.get(x.alertId);
      if (error === undefined) {
        sent.alerts.add(x.alertId);
        stats.alerts += 1;
        continue;
      }
      const w = byAsset.get(x.assetId);
      if (!w) continue;
      (w.unsent ??= []).push(x);
      logger.warn('alert refused by the bus; kept in the twin outbox', { assetId: x.assetId, alertId: x.alertId, error });
    }
  }

  return handler;
}

async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
