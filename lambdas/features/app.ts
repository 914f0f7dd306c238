/**
 * The features function: clean stream → per asset: twin (DynamoDB), scores, time series, alerts.
 *
 * Per invocation, in four phases:
 *   A. per asset (arrival order kept): read twin + registration, `prepareBatch`; then all assets of a
 *      model scored together (one endpoint call per predictor); then `completeBatch` per asset;
 *   B. side effects for all assets together: features/predictions to the telemetry store, screening
 *      quarantines to S3 (one object per reason);
 *   C. per asset, one conditional twin write, carrying the alerts to send in its outbox
 *      (`pendingAlerts`). On a version conflict the asset is re-read and the same input re-applied
 *      (the core folds are pure, and replayed samples are screened out), its new side effects are
 *      sent, and the write retried, a bounded number of times;
 *   D. the outboxes of the written twins to EventBridge in one go, then each outbox settled: emptied,
 *      or left holding what the bus refused (those assets' records are then reported failed so that
 *      Lambda redelivers them and the outbox is retried soon; any later record of the asset also does).
 * Telemetry and quarantine go before the twin write so that a failure leaves the twin unchanged:
 * Lambda retries the records and they are recomputed, never lost. Alerts go after it, because an alert
 * that went out and is then recomputed by a retry would be delivered twice; from the outbox it is sent
 * once, unless the function dies between the publish and the settle.
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
  type ShadowScorer,
  type TelemetryStore,
  TwinConflictError,
  type TwinStore,
} from '../adapters/ports.ts';
import { assetOf, decodeCleanRecord, InvalidCleanRecordError } from '../adapters/records.ts';
import { errorMessage } from '../adapters/retry.ts';
import type { HistoryTelemetryStore } from '../adapters/history.ts';
import type { DriftMonitor, DriftWindowReport } from '../adapters/drift.ts';
import { DRIFT_METRIC } from '../core/drift/index.ts';

export interface FeatureDeps {
  readonly registry: AssetRegistry;
  readonly twins: TwinStore;
  readonly scorer: Scorer;
  readonly telemetry: TelemetryStore;
  readonly quarantine: QuarantineSink;
  readonly alerts: AlertPublisher;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * History tables beyond the telemetry-store port (twin transitions, decided alerts, maintenance),
   * written with the features in phase B, so a failure leaves the twin unwritten and the records retried.
   * @default none
   */
  readonly history?: Pick<HistoryTelemetryStore, 'writeTransitions' | 'writeAlerts' | 'writeMaintenance' | 'writeEvents'>;
  /** Re-reads after a version conflict before the asset's records fail. @default 3 */
  readonly maxConflictRetries?: number;
  /** Assets processed at once in phase A and C. @default 8 */
  readonly concurrency?: number;
  /** @default DEFAULT_BASELINES[model.id] */
  readonly baselineFor?: (model: AssetModel) => AnomalyBaseline;
  /** @default defaultPolicies */
  readonly policiesFor?: (model: AssetModel) => Policies;
  /**
   * Drift window (docs/drift.md): the rows of written twins are counted, and each report that comes
   * back with a PSI is published as `FeatureDriftPsi` (dimension `AssetModel`). @default none (no drift)
   */
  readonly drift?: Pick<DriftMonitor, 'record'>;
  /**
   * Shadow challengers (docs/models.md "Shadow challengers"): every row the champion scores is scored by
   * the asset model's challenger too, and its outputs go to the history's `predictions` table with
   * `role = 'challenger'`. They never reach the twin, its alerts or the what-if: `completeBatch` only
   * ever sees the champion's predictions. A side channel like drift: its failure fails no record.
   * @default none (no shadow scoring)
   */
  readonly shadow?: {
    readonly score: ShadowScorer;
    readonly history: Pick<HistoryTelemetryStore, 'writeChallengerPredictions'>;
  };
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
  /** Drift reports computed in this invocation (at most one per asset model). */
  readonly drift?: readonly DriftWindowReport[];
  /** Challenger rows written to the history (shadow scoring). */
  readonly shadowRows?: number;
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
  /** The challenger's predictions of the same rows (shadow scoring); never folded into the twin. */
  shadow?: readonly (Prediction | null)[] | null;
  done?: CompletedBatch;
  failed?: string;
  /** The stored twin's outbox when it was read. */
  carried?: readonly TwinHealthChangedDetail[];
  /** The outbox written with the twin: the carried alerts and the new ones. */
  outbox?: TwinHealthChangedDetail[];
  /** Version of the twin as written (or as read, when nothing needed writing). */
  written?: number | null;
  /** Alerts of this asset the bus refused in phase D: the outbox left in the twin. */
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
  shadowRows: number;
}

/** What phase B has already sent for this invocation, so a conflict re-apply sends only what is new. */
interface Sent {
  readonly rows: Set<string>;
  readonly quarantine: Set<string>;
  /** Assets whose transitions, alerts and maintenance went to the history tables. */
  readonly history: Set<string>;
  /** Rows whose challenger predictions went to the history. */
  readonly shadow: Set<string>;
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

    const sent: Sent = { rows: new Set(), quarantine: new Set(), history: new Set(), shadow: new Set() };
    const stats: Stats = { conflicts: 0, twinsWritten: 0, rows: 0, alerts: 0, alertsPending: 0, quarantined: 0, timestreamRejected: 0, shadowRows: 0 };
    const live = () => all.filter((w) => w.failed === undefined);

    // Phase A: read and fold per asset, then score all assets of a model together (one endpoint call
    // per predictor for the batch rather than per asset), then complete.
    await pool(live(), concurrency, async (w) => {
      try {
        await read(w);
      } catch (err) {
        fail(w, err);
      }
    });
    await scoreAll(live());
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
    // Phase D
    await deliverOutboxes(live(), stats);
    const driftReports = await trackDrift(live());

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
    if (deps.shadow) add('ShadowRows', stats.shadowRows);
    metrics.publishStoredMetrics();
    const { shadowRows, ...counted } = stats;
    const summary: FeatureSummary = {
      assets: all.length,
      ...counted,
      failedAssets,
      ...(driftReports.length > 0 ? { drift: driftReports } : {}),
      ...(deps.shadow ? { shadowRows } : {}),
    };
    logger.info('features batch', { ...summary });
    handler.lastSummary = summary;
    return partialResponse(event, failedSeqs);
  };

  /**
   * Counts the scored rows of the written twins into the drift window and publishes what is due. Only
   * written twins count: a twin that failed is retried with the same rows, which would count them twice;
   * a written one screens them out as replays. Drift is a side channel: its failure fails no record.
   */
  async function trackDrift(ws: readonly Work[]): Promise<DriftWindowReport[]> {
    if (!deps.drift) return [];
    const groups = ws
      .filter((w) => w.written !== null && w.written !== undefined && w.ctx?.vectors !== false && (w.prepared?.rows.length ?? 0) > 0)
      .map((w) => ({ model: w.model!, rows: w.prepared!.rows }));
    if (groups.length === 0) return [];
    let reports: DriftWindowReport[];
    try {
      reports = await deps.drift.record(groups);
    } catch (err) {
      logger.warn('drift counters not updated', { error: errorMessage(err) });
      metrics.addMetric('DriftCountFailed', MetricUnit.Count, 1);
      return [];
    }
    for (const r of reports) {
      const table = r.features.map((f) => ({ feature: f.feature, psi: f.psi === null ? null : Number(f.psi.toFixed(4)) }));
      if (r.psi === null) {
        logger.debug('feature drift: no PSI', { assetModel: r.assetModel, reason: r.reason, rows: r.rows, window: r.window });
        continue;
      }
      // Only the AssetModel dimension: the alarm names exactly that (DRIFT_METRIC).
      const single = metrics.singleMetric();
      single.clearDefaultDimensions();
      single.addDimension(DRIFT_METRIC.dimension, r.assetModel);
      single.addMetric(DRIFT_METRIC.name, MetricUnit.NoUnit, r.psi);
      logger.info('feature drift', { assetModel: r.assetModel, psi: r.psi, feature: r.feature, rows: r.rows, window: r.window, features: table });
    }
    return reports;
  }

  function fail(w: Work, err: unknown): void {
    w.failed = errorMessage(err);
    logger.error('asset processing failed; its records will be retried', {
      assetId: w.assetId,
      error: errorMessage(err),
      errorName: (err as Error)?.name,
    });
  }

  /** Reads the twin and folds the asset's input into it (phases 1 and 2 of the core), without writing. */
  /** Reads the twin and folds the asset's input into it, without scoring or writing. */
  async function read(w: Work): Promise<void> {
    const current = await deps.twins.get(w.assetId);
    w.prepared = prepareBatch(current, w.inputs, w.ctx!);
    w.expected = current ? current.version : null;
    w.carried = current?.pendingAlerts ?? [];
  }

  /** Scores the read assets, grouped by asset model, and completes each; an asset that fails is marked. */
  async function scoreAll(ws: readonly Work[]): Promise<void> {
    const byModel = new Map<AssetModel, Work[]>();
    for (const w of ws) {
      const group = byModel.get(w.model!);
      if (group) group.push(w);
      else byModel.set(w.model!, [w]);
    }
    await Promise.all(
      [...byModel].map(async ([model, group]) => {
        let predictions: (Prediction | null)[][];
        try {
          const items = group.map((w) => ({ twin: w.prepared!.twin, rows: w.prepared!.rows }));
          predictions = deps.scorer.scoreMany
            ? await deps.scorer.scoreMany(model, items)
            : await Promise.all(items.map((it) => deps.scorer.score(model, it.twin, it.rows)));
        } catch (err) {
          for (const w of group) fail(w, err);
          return;
        }
        group.forEach((w, i) => {
          try {
            w.predictions = predictions[i]!;
            w.done = completeBatch(w.prepared!, w.predictions, w.ctx!, w.policies!);
          } catch (err) {
            fail(w, err);
            return;
          }
          w.shadow = shadowScore(w);
        });
      }),
    );
  }

  /**
   * The challenger's predictions of the rows the champion scored, after the twin is complete: nothing
   * here can change it. In process even when the champion is scored by an endpoint (one serverless
   * endpoint serves one model: docs/models.md "Shadow challengers").
   */
  function shadowScore(w: Work): (Prediction | null)[] | null {
    if (!deps.shadow || w.prepared!.rows.length === 0 || !w.ctx!.vectors) return null;
    try {
      return deps.shadow.score(w.model!, w.prepared!.twin, w.prepared!.rows);
    } catch (err) {
      logger.warn('shadow scoring failed; the challenger has no rows for this batch', { assetId: w.assetId, error: errorMessage(err) });
      metrics.addMetric('ShadowScoringFailed', MetricUnit.Count, 1);
      return null;
    }
  }

  /** Reads, scores and completes one asset (the re-apply after a version conflict). */
  async function apply(w: Work): Promise<void> {
    await read(w);
    await scoreAll([w]);
    if (w.failed !== undefined) throw new Error(w.failed);
  }

  async function commit(w: Work, sent: Sent, stats: Stats, requestId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outbox: TwinHealthChangedDetail[] = [];
      const ids = new Set<string>();
      for (const a of [...(w.carried ?? []), ...w.done!.alerts]) {
        if (ids.has(a.alertId)) continue;
        ids.add(a.alertId);
        outbox.push(a);
      }
      w.outbox = outbox;
      const newAlerts = outbox.length > (w.carried?.length ?? 0);
      if (!w.done!.changed && !newAlerts) {
        w.written = w.expected ?? null;
        return;
      }
      const twin = { ...w.done!.twin };
      if (outbox.length > 0) twin.pendingAlerts = outbox;
      else delete twin.pendingAlerts;
      try {
        await deps.twins.put(twin, w.expected ?? null);
        stats.twinsWritten += 1;
        w.written = twin.version;
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
   * Publishes the outboxes of the written twins together, then settles each: emptied when all of it
   * went out, else left with what the bus refused (the asset's records are then redelivered).
   */
  async function deliverOutboxes(ws: readonly Work[], stats: Stats): Promise<void> {
    const withMail = ws.filter((w) => (w.outbox?.length ?? 0) > 0 && w.written !== null && w.written !== undefined);
    if (withMail.length === 0) return;
    const alerts = withMail.flatMap((w) => w.outbox!);
    let refused: Map<string, string>;
    try {
      const res = await deps.alerts.publish(alerts);
      refused = new Map(res.failed.map((x) => [x.alert.alertId, x.error]));
    } catch (err) {
      refused = new Map(alerts.map((x) => [x.alertId, errorMessage(err)]));
    }
    await pool(withMail, concurrency, async (w) => {
      const unsent = w.outbox!.filter((a) => refused.has(a.alertId));
      w.unsent = unsent;
      stats.alerts += w.outbox!.length - unsent.length;
      stats.alertsPending += unsent.length;
      for (const a of unsent) {
        logger.warn('alert refused by the bus; kept in the twin outbox', { assetId: w.assetId, alertId: a.alertId, error: refused.get(a.alertId) });
      }
      if (unsent.length === w.outbox!.length) return; // nothing went out: the stored outbox is already right
      try {
        const settled = await deps.twins.settleAlerts(w.assetId, w.written!, unsent);
        // A newer write carries the outbox as it read it: it may send these alerts again (rare: one
        // writer per shard, so per asset, unless the stream's parallelization factor is raised).
        if (!settled) logger.info('twin written again before its outbox settled', { assetId: w.assetId });
      } catch (err) {
        // The outbox stays as written: the next invocation for the asset sends it again. Said, not hidden.
        logger.error('outbox settle failed; its alerts may be delivered again', { assetId: w.assetId, error: errorMessage(err) });
        w.unsent = w.outbox;
      }
    });
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
    const challenger: PredictionPoint[] = [];
    const featureOwners: Work[] = [];
    const quarantine: QuarantineRecord[] = [];
    const quarantineOwner = new Map<QuarantineRecord, Work>();
    const quarantineKey = (w: Work, q: QuarantineRecord) =>
      `${w.assetId}:${q.level}:${q.reason}:${q.messageId}:${q.seq}:${q.sensor ?? ''}`;
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
        // Only rows the champion scored: the comparison pairs them.
        const shadow = w.shadow?.[i];
        if (shadow && w.predictions![i] && !sent.shadow.has(key)) {
          challenger.push({ ...dims, ts: row.ts, seq: row.seq, anomaly: row.anomaly.score, prediction: shadow });
        }
      });
      // Screening of device events (duplicate event seqs) is quarantined like that of samples.
      for (const q of [...prepared.quarantine, ...prepared.eventQuarantine]) {
        if (sent.quarantine.has(quarantineKey(w, q))) continue;
        quarantine.push(q);
        quarantineOwner.set(q, w);
      }
    }
    const historyOwners = deps.history ? ws.filter((w) => !sent.history.has(w.assetId)) : [];
    const [f, p, q, h, s] = await Promise.allSettled([
      features.length > 0 ? deps.telemetry.writeFeatures(features) : Promise.resolve({ written: 0, rejected: [] }),
      predictions.length > 0 ? deps.telemetry.writePredictions(predictions) : Promise.resolve({ written: 0, rejected: [] }),
      quarantine.length > 0 ? deps.quarantine.put(quarantine, requestId) : Promise.resolve({ objects: [], failed: [] }),
      writeHistory(historyOwners),
      challenger.length > 0 && deps.shadow ? deps.shadow.history.writeChallengerPredictions(challenger) : Promise.resolve({ written: 0, rejected: [] }),
    ]);
    if (s.status === 'rejected') {
      logger.warn('challenger predictions not written to the history', { rows: challenger.length, error: errorMessage(s.reason) });
      metrics.addMetric('ShadowWriteFailed', MetricUnit.Count, challenger.length);
    } else {
      for (const c of challenger) sent.shadow.add(`${c.assetId}:${c.seq}`);
      stats.shadowRows += challenger.length;
    }
    const failAll = (owners: Iterable<Work>, what: string, err: unknown) => {
      for (const w of owners) if (w.failed === undefined) fail(w, new Error(`${what}: ${errorMessage(err)}`));
    };
    if (h.status === 'rejected') failAll(historyOwners, 'history write', h.reason);
    else for (const w of historyOwners) sent.history.add(w.assetId);
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
  }

  /** Transitions, decided alerts, maintenance and device events of the given assets to the history tables. */
  async function writeHistory(ws: readonly Work[]): Promise<void> {
    if (!deps.history || ws.length === 0) return;
    const transitions = [];
    const alerts = [];
    const maintenance = [];
    const events = [];
    for (const w of ws) {
      const asset = { assetId: w.assetId, siteId: w.ctx!.asset.siteId, modelId: w.model!.id };
      const tsOfSeq = new Map(w.prepared!.rows.map((r) => [r.seq, r.ts]));
      const lastTs = w.prepared!.latestRow?.ts ?? w.done!.twin.latest?.ts ?? 0;
      for (const t of w.done!.transitions) {
        transitions.push({ asset, transition: t, ts: (t.seq !== null ? tsOfSeq.get(t.seq) : undefined) ?? lastTs });
      }
      alerts.push(...w.done!.alerts);
      for (const input of w.inputs) {
        if (input.kind === 'maintenance') maintenance.push(input.event);
        // Clean device events as received; a resent one shares its (asset_id, seq) and queries collapse it.
        else if (input.kind === 'event') events.push(input.event);
      }
    }
    await Promise.all([
      transitions.length > 0 ? deps.history.writeTransitions(transitions) : undefined,
      alerts.length > 0 ? deps.history.writeAlerts(alerts) : undefined,
      maintenance.length > 0 ? deps.history.writeMaintenance(maintenance) : undefined,
      events.length > 0 ? deps.history.writeEvents(events) : undefined,
    ]);
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
